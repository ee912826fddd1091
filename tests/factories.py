"""factory_boy factories for test data: fictional names, Ofcom drama phone numbers, real-shaped postcodes."""
from datetime import timedelta

import factory
import pyotp
from werkzeug.security import generate_password_hash

from tts.auth.models import User
from tts.clock import today, utcnow
from tts.extensions import db
from tts.people.validation import PersonData

PASSWORD_HASH = generate_password_hash("correct-horse-battery", method="pbkdf2:sha256:1000")


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"staff{n}@tts.example")
    name = factory.Sequence(lambda n: f"Tess Tracer {n}")
    role = "tracer"
    password_hash = PASSWORD_HASH
    is_active = True
    # Enrolled in two-factor sign-in already; tests sign in with codes from this secret.
    totp_secret = factory.LazyFunction(pyotp.random_base32)
    totp_enrolled_at = factory.LazyFunction(utcnow)


_FIRST = ["Ada", "Bram", "Cleo", "Dev", "Ember", "Finn", "Gale", "Hollis", "Ione", "Jory"]
_LAST = ["Fairweather", "Kestrel", "Moorcroft", "Nettlefold", "Quillon", "Rookwood", "Sallow", "Thimble"]


def person_data(n: int = 0, **overrides) -> PersonData:
    """A fictional person: drama-range mobile, Sheffield-shaped postcode."""
    values = dict(
        first_name=_FIRST[n % len(_FIRST)],
        last_name=_LAST[n % len(_LAST)],
        date_of_birth=today() - timedelta(days=365 * 30 + n * 37),
        phone=f"07700 900{n % 1000:03d}",
        email=None,
        address=f"{n + 1} Imaginary Road, Sheffield",
        postcode="S1 2HH",
    )
    values.update(overrides)
    return PersonData(**values)
