"""The connection reports and exports read through."""
from contextlib import contextmanager

from flask import current_app

from tts.extensions import db


@contextmanager
def reading():
    """The reporting replica's connection when `TTS_REPORTING_DATABASE_URL` is set (its own short read-only
    transaction, so a large export runs on other cores than the call queue's), else the session's own."""
    engine = db.engines.get("reporting")
    if engine is None:
        connection = db.session.connection()
        _report_cores(connection)
        yield connection
        return
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        _report_cores(connection)
        yield connection


def _report_cores(connection) -> None:
    """A report's query runs on one core (TTS_REPORT_PARALLEL_WORKERS, default 0 extra): PostgreSQL would
    otherwise give a large scan two parallel workers, every core of a small server, and the call queue
    would wait behind an analyst. For this transaction only (SET LOCAL)."""
    if connection.dialect.name == "postgresql":
        workers = int(current_app.config.get("TTS_REPORT_PARALLEL_WORKERS", 0))
        connection.exec_driver_sql(f"SET LOCAL max_parallel_workers_per_gather = {workers}")
