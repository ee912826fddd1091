"""A one-time code is consumed atomically: of N sign-ins presenting the same code at the same moment, from N
browser sessions on N threads with their own database connections, exactly one gets in. The same for one
recovery code. Runs on SQLite and on PostgreSQL (the suite's second pass)."""
import threading
import time

import pyotp
import pytest

from tests.conftest import make_app
from tts.auth.models import User
from tts.auth.mfa import replace_recovery_codes
from tts.auth.services import create_user
from tts.extensions import db

pytestmark = pytest.mark.no_rollback
SESSIONS = 8
PASSWORD = "quartz-meadow-lamp-race"


@pytest.fixture(scope="module")
def race_app(fresh_database_url):
    app = make_app(fresh_database_url("otp_race"),
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": SESSIONS + 4, "max_overflow": 4},
                   TTS_SIGNIN_MAX_FAILURES_ACCOUNT=1000, TTS_SIGNIN_MAX_FAILURES_ADDRESS=1000)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _user(app, n: int) -> tuple[str, str, list[str]]:
    with app.app_context():
        user = create_user(None, email=f"racer{n}-{time.time_ns()}@otp.example", name=f"Ray Racer {n}",
                           role="tracer", password=PASSWORD)
        user.totp_secret = pyotp.random_base32()
        user.totp_enrolled_at = user.created_at
        codes = replace_recovery_codes(user)
        db.session.commit()
        return user.email, user.totp_secret, codes


def _race(app, email: str, code: str) -> list[int]:
    """N browsers past the password step, then all send `code` at once; the status each got."""
    clients = []
    for _ in range(SESSIONS):
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        clients.append(client)
    barrier = threading.Barrier(SESSIONS)
    statuses: list[int] = []
    lock = threading.Lock()

    def sign_in(client):
        barrier.wait()
        status = client.post("/login/code", data={"code": code}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=sign_in, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_one_totp_code_sent_from_many_sessions_at_once_signs_in_exactly_one(race_app):
    for n in range(3):  # several rounds: one lucky ordering proves little
        email, secret, _ = _user(race_app, n)
        statuses = _race(race_app, email, pyotp.TOTP(secret).now())
        assert statuses.count(302) == 1, statuses
        assert all(s in (302, 400, 503) for s in statuses), statuses


def test_one_recovery_code_sent_from_many_sessions_at_once_signs_in_exactly_one(race_app):
    from sqlalchemy import func, select

    from tts.auth.models import RecoveryCode

    for n in range(3):
        email, _, codes = _user(race_app, 10 + n)
        statuses = _race(race_app, email, codes[0])
        assert statuses.count(302) == 1, statuses
        with race_app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email == email))
            used = db.session.scalar(select(func.count()).select_from(RecoveryCode)
                                     .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_not(None)))
        assert used == 1
