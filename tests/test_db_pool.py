"""Pooled connections are pinged before use only after sitting idle (tts/db_pool.py): none of the queue's
busy requests pays a round trip for it, and a connection the database dropped while idle is replaced
without the user seeing an error. Against the real local PostgreSQL (SQLite has nothing to drop)."""
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.conftest import PG_SERVER_URL, make_app
from tts.extensions import db

pytestmark = [pytest.mark.no_rollback,
              pytest.mark.skipif(not PG_SERVER_URL, reason="needs PostgreSQL: the suite's second pass runs it")]


@pytest.fixture(scope="module")
def database(fresh_database_url):
    url = fresh_database_url("pool")
    schema = make_app(url)  # the schema, once
    with schema.app_context():
        db.engine.dispose()
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    yield url, admin
    admin.dispose()


def _app(url: str, idle_seconds: float):
    from tts import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=url, TTS_DB_PING_AFTER_IDLE_SECONDS=idle_seconds,
                      SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 2, "max_overflow": 0})


def _count_pings(monkeypatch, engine) -> list:
    pings = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: (pings.append(1), real(conn))[1])
    return pings


def _one_request(app) -> int:
    """What a request does with the database: check a connection out, use it, give it back."""
    with app.app_context():
        value = db.session.scalar(text("SELECT 1"))
        db.session.remove()
    return value


def _kill(admin, url: str) -> int:
    with admin.connect() as conn:
        return len(conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :n AND pid <> pg_backend_pid()"),
                                {"n": make_url(url).database}).all())


def test_busy_connections_are_not_pinged_idle_ones_are(database, monkeypatch):
    url, _ = database
    app = _app(url, idle_seconds=0.5)
    with app.app_context():
        pings = _count_pings(monkeypatch, db.engine)
    for _ in range(20):
        assert _one_request(app) == 1
    assert pings == []  # a request after another: no round trip for a ping
    time.sleep(0.6)
    assert _one_request(app) == 1
    assert len(pings) == 1  # idle past the limit: pinged once
    assert _one_request(app) == 1
    assert len(pings) == 1
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("idle_seconds", [0.2, 3600], ids=["pinged", "control-without-ping"])
def test_a_connection_dropped_while_idle_is_replaced_without_an_error(database, idle_seconds):
    """The database drops the pooled connection (a restart, say) while it sits idle. Idle past the limit, it
    is pinged, found dead and replaced: the request never knows. The control uses it before it counts as
    idle, so the drop reaches the request: without the ping, the first request would have failed."""
    url, admin = database
    app = _app(url, idle_seconds=idle_seconds)
    assert _one_request(app) == 1
    assert _kill(admin, url) >= 1
    time.sleep(0.3)
    if idle_seconds < 0.3:
        assert _one_request(app) == 1
    else:
        with pytest.raises(OperationalError):
            _one_request(app)
    with app.app_context():
        db.engine.dispose()
