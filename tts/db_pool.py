"""Pooled database connections: checked before use only when they have been idle.

SQLAlchemy's `pool_pre_ping` pings at every checkout, and a request checks a connection out at least once:
under the queue's load that was a round trip to the database in every request, for connections used a
few milliseconds before. A connection idle for TTS_DB_PING_AFTER_IDLE_SECONDS or more (10 by default) is
pinged as before, and replaced if the database dropped it while it sat in the pool (a restart overnight,
a failover). One that drops while busy is what tts/errors.py handles either way: a safe read is retried
on a fresh connection, a write gets the friendly 503, and the pool discards every connection older than
the failure.
"""
import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

_CHECKED_IN = "tts_checked_in_at"


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a connection at checkout if it sat in the pool `idle_seconds` or more (0: always)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.pop(_CHECKED_IN, None)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new (just connected), or used moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                # The pool discards this connection and checks out another (a new one if need be).
                raise exc.DisconnectionError("the database dropped this pooled connection") from error
            raise
