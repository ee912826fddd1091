"""Test fixtures: one fresh database per run (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set),
migrated once, with every test inside an outer transaction that is rolled back afterwards."""
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tts import create_app
from tts.extensions import db

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = str(ROOT / "migrations")
PG_SERVER_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct-horse-battery"


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + make_url(PG_SERVER_URL).render_as_string() if PG_SERVER_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def is_postgres() -> bool:
    return bool(PG_SERVER_URL)


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory) -> Iterator[Callable[[str], str]]:
    """Makes an empty database and returns its URL; PostgreSQL ones are dropped at the end of the run."""
    created: list[str] = []
    admin = None
    if PG_SERVER_URL:
        admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")

    def make(label: str) -> str:
        if admin is None:
            return f"sqlite:///{tmp_path_factory.mktemp(label) / 'tts.db'}"
        name = f"tts_test_{label}_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(database_url: str, **overrides) -> Flask:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS)
    return app


@pytest.fixture(scope="session")
def app(fresh_database_url) -> Iterator[Flask]:
    app = make_app(fresh_database_url("main"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _rollback_everything(request, app: Flask) -> Iterator[None]:
    """Bind the app's sessions to one connection whose outer transaction is rolled back; the app's own
    commits become savepoint releases (join_transaction_mode="create_savepoint" in extensions.py)."""
    if "live_server" in request.fixturenames or request.node.get_closest_marker("no_rollback"):
        yield
        return
    with app.app_context():
        engines = db.engines  # the dict Flask-SQLAlchemy looks engines up in
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection  # type: ignore[index]
        db.session.remove()
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            engines[None] = engine  # type: ignore[index]
            transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _fresh_throttle(app: Flask) -> None:
    """Sign-in failure counts (in the database): start each test from zero."""
    with app.app_context():
        app.extensions["tts_throttle"].reset()
        db.session.commit()


@pytest.fixture
def ctx(app: Flask):
    """A short-lived app context for setting up data; don't hold it while using the test client."""

    @contextmanager
    def open_context():
        with app.app_context():
            yield
            db.session.commit()

    return open_context


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def make_user(ctx):
    """Creates a user and returns (id, email)."""
    counter = iter(range(1, 10_000))

    def make(role: str = "tracer", **kwargs) -> dict:
        from tests.factories import UserFactory

        with ctx():
            user = UserFactory(role=role, email=f"{role}{next(counter)}-{uuid.uuid4().hex[:6]}@tts.example", **kwargs)
            db.session.flush()
            return {"id": user.id, "email": user.email, "role": user.role, "password": PASSWORD,
                    "totp_secret": user.totp_secret}

    return make


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    import time

    import pyotp

    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def sign_in(client, user: dict) -> None:
    """Password, then a code from the user's authenticator secret (the next step's code if this one was used)."""
    response = client.post("/login", data={"email": user["email"], "password": user["password"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.endswith("/login/code"), response.location
    for ahead in (0, 1):
        response = client.post("/login/code", data={"code": totp_code(user["totp_secret"], ahead)})
        if response.status_code == 302:
            return
    raise AssertionError(response.get_data(as_text=True))


@pytest.fixture
def tracer_client(client, make_user):
    user = make_user("tracer")
    sign_in(client, user)
    client.user = user
    return client


@pytest.fixture
def admin_client(client, make_user):
    user = make_user("admin")
    sign_in(client, user)
    client.user = user
    return client


@pytest.fixture
def api_token(ctx, make_user):
    """A bearer token for a user of the given role: api_token("tracer") -> (headers, user)."""

    def make(role: str = "tracer") -> tuple[dict, dict]:
        from tts.auth.models import User
        from tts.auth.services import issue_api_token

        user = make_user(role)
        with ctx():
            _, plain = issue_api_token(None, db.session.get(User, user["id"]))
        return {"Authorization": f"Bearer {plain}"}, user

    return make


# A Monday morning in November (GMT, so London time equals UTC), inside calling hours.
DAYTIME = "2026-11-23T10:00:00+00:00"


@pytest.fixture
def daytime():
    """Freeze the clock inside calling hours; `daytime.shift(...)`/`move_to(...)` move it."""
    import time_machine

    with time_machine.travel(DAYTIME, tick=False) as traveller:
        yield traveller
