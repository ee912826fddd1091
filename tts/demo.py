"""`flask demo load`: fictional staff, cases and contacts for trying the app."""
import base64
import hashlib
from datetime import date, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tts.auth.models import User
from tts.auth.services import create_user
from tts.cases.models import Case
from tts.cases.services import add_contact, create_case
from tts.clock import today, utcnow
from tts.extensions import db
from tts.people.validation import PersonData
from tts.transaction import command_boundary, commit_step

DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = [
    ("tracer@tts.example", "Priya Tracer", "tracer"),
    ("supervisor@tts.example", "Sam Supervisor", "supervisor"),
    ("reporting@tts.example", "Rowan Reporting", "reporting"),
    ("admin@tts.example", "Alex Admin", "admin"),
    ("field@tts.example", "Frankie Field", "tracer"),  # a field officer: makes doorstep visits
]


def demo_totp_secret(email: str) -> str:
    """A fixed, published authenticator key per demo account: for trying the app, never for real accounts."""
    return base64.b32encode(hashlib.sha256(f"tts-demo-{email}".encode()).digest()).decode()[:32]


@click.group("demo")
def demo_cli():
    """Demo data for trying TTS locally."""


@demo_cli.command("load")
@with_appcontext
@command_boundary
def load_command():
    """Create demo staff (one per role) and a few fictional cases; safe to run twice."""
    users = {}
    for email, name, role in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        users[email] = user = user or create_user(None, email=email, name=name, role=role, password=DEMO_PASSWORD)
        user.is_field_officer = email.startswith("field@")
        user.phone = user.phone or "+447700900990"  # rung (in simulation) for masked calls
        if not user.mfa_enrolled:
            user.totp_secret = demo_totp_secret(email)
            user.totp_enrolled_at = utcnow()
    if db.session.scalar(select(Case.id).limit(1)) is None:
        _demo_cases(users["tracer@tts.example"])
        _demo_follow_up(users["supervisor@tts.example"], users["field@tts.example"])
    commit_step("the demo staff and cases are saved before their logins are printed")
    click.echo("\nDemo logins (password for all: %s). Sign-in also asks for a code from an authenticator" % DEMO_PASSWORD)
    click.echo("app: add the key shown to any TOTP app, or print the current code with")
    click.echo("`.venv/bin/flask --app wsgi demo code EMAIL`.")
    for email, _name, role in DEMO_USERS:
        label = "field" if email.startswith("field@") else role
        click.echo(f"  {label:<11} {email:<24} authenticator key {demo_totp_secret(email)}")


@demo_cli.command("code")
@click.argument("email")
@with_appcontext
def code_command(email: str):
    """Print the current sign-in code of a demo account (only demo accounts, with their published keys)."""
    import pyotp

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or email not in {e for e, _n, _r in DEMO_USERS} or user.totp_secret != demo_totp_secret(email):
        click.echo("Only the demo accounts' codes can be printed", err=True)
        raise SystemExit(1)
    click.echo(pyotp.TOTP(user.totp_secret).now())


def _demo_follow_up(supervisor: User, field_officer: User) -> None:
    """Something on every list: the contact with no phone number is visited, the case needs food, and a text
    arrived from a number nobody recognises."""
    from tts.escalation.models import Escalation
    from tts.escalation.services import assign_visit
    from tts.support.services import create_support_need
    from tts.telephony.services import receive_sms

    for escalation in db.session.scalars(select(Escalation).where(Escalation.status == "open")):
        assign_visit(supervisor, escalation, field_officer)
    case = db.session.scalar(select(Case).order_by(Case.id).limit(1))
    create_support_need(supervisor, case.person, kind="food", urgency="today",
                        notes="Lives alone with two children; no one to shop for them")
    receive_sms(sid="SMdemo0000000000000000000000000001", from_number="+447700900999", to_number=None,
                body="Hi, I got a text asking me to isolate but I don't know who this is")


def _demo_cases(tracer: User) -> None:
    d = today()
    # Fictional people; phone numbers from Ofcom's drama ranges.
    case = create_case(tracer, PersonData("Morgan", "Ashdown", date(d.year - 34, 5, 17), "07700 900101", None,
                                          "14 Fictional Row, Sheffield", "S1 2HH"),
                       test_date=d - timedelta(days=1), symptom_onset_date=d - timedelta(days=3))
    add_contact(tracer, case, PersonData("Jamie", "Ashdown", date(d.year - 36, 5, 17), "07700 900102"),
                relationship="household", last_exposure_date=d - timedelta(days=1))
    add_contact(tracer, case, PersonData("Robin", "Ashdown", date(d.year - 9, 5, 17)),
                relationship="household", last_exposure_date=d - timedelta(days=1))
    add_contact(tracer, case, PersonData("Kit", "Bramall", None, "0114 496 0456", None,
                                         "3 Example Lane, Sheffield", "S10 2TN"),
                relationship="close", last_exposure_date=d - timedelta(days=2))
    create_case(tracer, PersonData("Avery", "Hallam", date(d.year - 52, 5, 17), "07700 900201", None,
                                   "7 Sample Street, Sheffield", "S11 8YA"),
                test_date=d, symptom_onset_date=None)
