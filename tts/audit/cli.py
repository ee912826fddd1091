"""`flask audit verify`: check the audit log's hash chain."""
import click
from flask.cli import with_appcontext

from tts.audit.chain import verify
from tts.extensions import db


@click.group("audit")
def audit_cli():
    """Audit log checks."""


@audit_cli.command("verify")
@with_appcontext
def verify_command():
    """Check every event's hash and link; exit 1 naming the first broken link."""
    verdict = verify(db.session)
    if verdict.ok:
        click.echo(f"Audit chain intact: {verdict.checked} events checked.")
        return
    where = f"chain position {verdict.broken_at}" if verdict.broken_at is not None else "an unsealed event"
    click.echo(f"Audit chain BROKEN at {where} (event id {verdict.event_id}): {verdict.reason}. "
               f"{verdict.checked} events before it are intact.", err=True)
    raise SystemExit(1)
