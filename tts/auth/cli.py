"""`flask users ...`: manage staff accounts and API tokens from the command line."""
import click
from flask.cli import with_appcontext

from tts.auth.services import create_user, get_user_by_email, issue_api_token
from tts.errors import DomainError, ValidationFailed
from tts.transaction import command_boundary
from tts.permissions import Role


@click.group("users")
def users_cli():
    """Manage staff accounts and API tokens."""


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="The user's role.")
@click.option("--name", required=True, help="The user's full name.")
@click.option("--password-stdin", is_flag=True, help="Read the initial password from standard input's first line "
              "(for scripts: never put a password on the command line, where shell history and ps keep it).")
@click.option("--password", default=None, hidden=True, help="Deprecated: the password on the command line.")
@with_appcontext
@command_boundary
def create_command(email: str, role: str, name: str, password_stdin: bool, password: str | None):
    """Create a staff account. The initial password (at least 12 characters) is asked for, hidden, twice;
    with --password-stdin it is read from standard input instead."""
    import sys

    if password is not None:
        click.echo("Warning: --password leaves the password in your shell history; use the prompt or "
                   "--password-stdin.", err=True)
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Initial password (at least 12 characters)", hide_input=True,
                                confirmation_prompt="Type it again")
    try:
        user = create_user(None, email=email, name=name, role=role, password=password)
    except ValidationFailed as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Created {user.role} {user.email} (id {user.id})")


@users_cli.command("token")
@click.argument("email")
@click.option("--days", type=int, default=None, help="Days until the token expires (default TTS_API_TOKEN_DAYS).")
@with_appcontext
@command_boundary
def token_command(email: str, days: int | None):
    """Issue a new API bearer token; the token is the last line printed and is shown only once."""
    user = get_user_by_email(email)
    if user is None:
        click.echo(f"No user with email {email}", err=True)
        raise SystemExit(1)
    try:
        token, plain = issue_api_token(None, user, days)
    except DomainError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    click.echo(f"Token for {user.email} ({user.role}), expires {token.expires_at:%Y-%m-%d}. Store it now: it is not shown again.")
    click.echo(plain)


GRANTS = {"export_identifiable": "can_export_identifiable"}


def _set_grant(email: str, permission: str, value: bool) -> None:
    from tts.audit.services import record_event

    if permission not in GRANTS:
        click.echo(f"Unknown permission {permission}; choose from: {', '.join(GRANTS)}", err=True)
        raise SystemExit(1)
    user = get_user_by_email(email)
    if user is None:
        click.echo(f"No user with email {email}", err=True)
        raise SystemExit(1)
    setattr(user, GRANTS[permission], value)
    record_event(None, "user.grant" if value else "user.revoke", user, {"permission": permission})
    click.echo(f"{'Granted' if value else 'Revoked'} {permission} {'to' if value else 'from'} {user.email}")


@users_cli.command("grant")
@click.argument("email")
@click.argument("permission")
@with_appcontext
@command_boundary
def grant_command(email: str, permission: str):
    """Grant a per-user permission (export_identifiable)."""
    _set_grant(email, permission, True)


@users_cli.command("revoke")
@click.argument("email")
@click.argument("permission")
@with_appcontext
@command_boundary
def revoke_command(email: str, permission: str):
    """Revoke a per-user permission (export_identifiable)."""
    _set_grant(email, permission, False)
