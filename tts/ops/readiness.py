"""Is this server ready for traffic? The database answers, and its schema is at the code's newest migration
(an upgrade runs `flask db upgrade` before the new code takes traffic: docs/deploy.md)."""
from functools import cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tts.extensions import db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@cache
def code_heads() -> frozenset[str]:
    """The newest migration(s) this code carries, read once a process."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def readiness() -> tuple[bool, str | None]:
    try:
        versions = set(db.session.scalars(text("SELECT version_num FROM alembic_version")).all())
    except SQLAlchemyError:
        db.session.rollback()
        return False, "the database does not answer, or has no schema (run flask db upgrade)"
    finally:
        db.session.rollback()  # read-only: end the transaction now
    heads = code_heads()
    if versions != heads:
        return False, (f"the database schema is at {', '.join(sorted(versions)) or 'nothing'}, the code needs "
                       f"{', '.join(sorted(heads))}: run flask db upgrade")
    return True, None
