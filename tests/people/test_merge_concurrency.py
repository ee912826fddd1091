"""Two supervisors merge the same pair at the same moment, each the other way round (A into B, B into A):
one merge happens, the other is refused; never a loop of records merged into each other. Real threads,
each with its own connection, on PostgreSQL (the row locks are the claim)."""
import threading
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import PG_SERVER_URL, make_app
from tts.auth.services import create_user
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.people.merging import merge_person
from tts.people.models import Person

ROUNDS = 8

pytestmark = pytest.mark.skipif(not PG_SERVER_URL, reason="row locks: the claim is made for PostgreSQL")


@pytest.fixture(scope="module")
def race_app(fresh_database_url):
    app = make_app(fresh_database_url("merge-race"))
    with app.app_context():
        for n in range(2):
            create_user(None, email=f"boss{n}@race.example", name=f"Boss {n}", role="supervisor",
                        password="race-condition-password")
        for n in range(ROUNDS):
            for phone in (f"+4477009006{n:02d}", None):
                db.session.add(Person(first_name="Rowan", last_name=f"Twicer{n}", date_of_birth=date(1980, 1, n + 1),
                                      phone=phone, postcode="S1 2HH"))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.no_rollback
def test_two_merges_of_one_pair_at_once_make_one_merge(race_app):
    from tts.auth.models import User

    with race_app.app_context():
        bosses = db.session.scalars(select(User.id).order_by(User.id)).all()
        pairs = [tuple(db.session.scalars(select(Person.id).where(Person.last_name == f"Twicer{n}")
                                          .order_by(Person.id)).all()) for n in range(ROUNDS)]
    for a, b in pairs:
        outcomes: list[str] = []
        start = threading.Barrier(2, timeout=30)

        def merge(boss_id: int, gone_id: int, kept_id: int) -> None:
            with race_app.app_context():
                boss = db.session.get(User, boss_id)
                gone, kept = db.session.get(Person, gone_id), db.session.get(Person, kept_id)
                start.wait()
                try:
                    merge_person(boss, gone, kept)
                    db.session.commit()
                    outcomes.append("merged")
                except ValidationFailed:
                    db.session.rollback()
                    outcomes.append("refused")

        threads = [threading.Thread(target=merge, args=(bosses[0], a, b)),
                   threading.Thread(target=merge, args=(bosses[1], b, a))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["merged", "refused"], outcomes
        with race_app.app_context():
            rows = {p.id: p.merged_into_id for p in db.session.scalars(select(Person).where(Person.id.in_((a, b))))}
            assert sorted(v is None for v in rows.values()) == [False, True]  # exactly one merged away
            kept = next(i for i, into in rows.items() if into is None)
            assert all(into in (None, kept) for into in rows.values())
