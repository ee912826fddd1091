"""`flask audit verify` and `flask audit seal`: the audit log's hash chain."""
import click
from flask.cli import with_appcontext

from tts.audit.chain import verify
from tts.clock import utcnow
from tts.extensions import db


@click.group("audit")
def audit_cli():
    """Audit log checks."""


@audit_cli.command("verify")
@click.option("--strict", is_flag=True, help="Also fail (exit 2) when events are waiting to be sealed.")
@with_appcontext
def verify_command(strict: bool):
    """Check every sealed event's hash and link; exit 1 naming the first broken link. Events not sealed yet (the
    worker seals them within seconds) are reported as the chain's tail."""
    verdict = verify(db.session)
    tail = ""
    if verdict.unsealed:
        age = (utcnow() - verdict.oldest_unsealed_at).total_seconds() if verdict.oldest_unsealed_at else 0
        tail = (f" {verdict.unsealed} newer events are not sealed yet (the oldest written {age:.0f} s ago): the "
                f"worker's audit lane seals them within seconds; if they stay, it is not running.")
    if verdict.ok:
        click.echo(f"Audit chain intact: {verdict.checked} events checked.{tail}")
        if strict and verdict.unsealed:
            raise SystemExit(2)
        return
    click.echo(f"Audit chain BROKEN at chain position {verdict.broken_at} (event id {verdict.event_id}): "
               f"{verdict.reason}. {verdict.checked} events before it are intact.{tail}", err=True)
    raise SystemExit(1)


@audit_cli.command("seal")
@with_appcontext
def seal_command():
    """Seal every committed event still waiting into the chain now (the worker does this every second)."""
    from tts.audit.sealer import seal_committed_events

    click.echo(f"Sealed {seal_committed_events()} audit events.")
