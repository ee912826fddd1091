"""`flask queue ...`: queue maintenance that the worker also runs on a schedule."""
import click
from flask.cli import with_appcontext

from tts.callqueue.services import escalate_overdue
from tts.transaction import command_boundary


@click.group("queue")
def queue_cli():
    """Call queue maintenance."""


@queue_cli.command("sweep")
@with_appcontext
@command_boundary
def sweep_command():
    """Escalate first calls still unreached 24 hours after they were created."""
    count = escalate_overdue()  # a job: its own transaction
    click.echo(f"Escalated {count} overdue item(s)")
