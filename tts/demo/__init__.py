"""`flask demo load`: fictional staff and a fortnight of fictional tracing work for trying the app."""
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
from tts.simulation.services import create_run
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


def _development_only() -> None:
    """The demo accounts' password and authenticator keys are published in this code: a server that any of
    the public can reach must never have them. Refused unless TTS_CONFIG is development or testing."""
    from flask import current_app

    environment = current_app.config.get("TTS_ENVIRONMENT")
    if environment not in ("development", "testing"):
        click.echo(f"Refused: the demo data's accounts have published passwords and authenticator keys, and this is "
                   f"a {environment} configuration (TTS_CONFIG). Demo data is for development only: create real "
                   f"accounts with `flask users create` (docs/deploy.md).", err=True)
        raise SystemExit(1)


@demo_cli.command("load")
@with_appcontext
@command_boundary
def load_command():
    """Create demo staff (one per role) and a fortnight of fictional work; safe to run twice. Development only."""
    import time

    _development_only()
    from tts.demo import fortnight

    started = time.perf_counter()
    users = {}
    for email, name, role in DEMO_USERS + [(e, n, "tracer") for e, n in fortnight.staff_tracers()]:
        user = db.session.scalar(select(User).where(User.email == email))
        users[email] = user = user or create_user(None, email=email, name=name, role=role, password=DEMO_PASSWORD)
        user.is_field_officer = email.startswith("field@")
        user.phone = user.phone or "+447700900990"  # rung (in simulation) for masked calls
        if not user.mfa_enrolled:
            user.totp_secret = demo_totp_secret(email)
            user.totp_enrolled_at = utcnow()
    commit_step("the demo staff are saved before their fortnight is played")
    if db.session.scalar(select(Case.id).limit(1)) is None:
        tracers = [users["tracer@tts.example"]] + [users[e] for e, _n in fortnight.staff_tracers()]
        made = fortnight.load(tracers, users["supervisor@tts.example"], users["field@tts.example"])
        _demo_cases(users["tracer@tts.example"], users["supervisor@tts.example"])
        _demo_settings(users["tracer@tts.example"], users["supervisor@tts.example"])
        # A capacity planner run at this council's peak, for the worker to simulate (`make run` runs it).
        create_run(users["supervisor@tts.example"], cases_per_day=max(fortnight.WAVE),
                   contacts_per_case=fortnight.CONTACTS_PER_CASE, tracers=len(tracers))
        commit_step("the demo fortnight is saved before the logins are printed")
        click.echo(f"Demo data: a fortnight of {made['cases']} cases, {made['people']} people and "
                   f"{made['calls']} calls, in {time.perf_counter() - started:.0f} seconds.")
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

    _development_only()
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or email not in {e for e, _n, _r in DEMO_USERS} or user.totp_secret != demo_totp_secret(email):
        click.echo("Only the demo accounts' codes can be printed", err=True)
        raise SystemExit(1)
    click.echo(pyotp.TOTP(user.totp_secret).now())


def _demo_cases(tracer: User, supervisor: User) -> None:
    """Today's cases the README's tour starts from: a household, a close contact with a landline only, and a
    case who needs food delivered."""
    from tts.support.services import create_support_need

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
    create_support_need(supervisor, case.person, kind="food", urgency="today",
                        notes="Lives alone with two children; no one to shop for them")
    create_case(tracer, PersonData("Avery", "Hallam", date(d.year - 52, 5, 17), "07700 900201", None,
                                   "7 Sample Street, Sheffield", "S11 8YA"),
                test_date=d, symptom_onset_date=None)


DEMO_SETTINGS = [  # name, kind, address, postcode, contact, phone, email, size (all fictional)
    ("Ferncliffe Care Home", "care_home", "2 Ferncliffe Drive, Sheffield", "S11 8YA", "Morwenna Quillon",
     "0114 496 0123", "manager@ferncliffe.example", 48),
    ("Pretend Primary School", "school", "1 Pretend Road, Sheffield", "S10 2TN", "Hollis Thimble", "0114 496 0234",
     "head@pretend-primary.example", 320),
    ("Thimble Lane Works", "workplace", "4 Thimble Lane, Sheffield", "S2 4LW", "Gale Rookwood", "0114 496 0345",
     None, 120),
    ("The Quillon Arms", "hospitality", "9 Example Lane, Sheffield", "S1 2HH", None, None, None, None),
]


def _demo_settings(tracer: User, supervisor: User) -> None:
    """The settings register, a care-home outbreak the cluster rule opened (a resident, and the carer who was
    their contact), one school case (a second opens an outbreak: the tour), and a place named online."""
    from tts.cases.services import convert_contact
    from tts.outbreaks import services as outbreaks
    from tts.outbreaks.settings import SettingData, create_setting

    d = today()
    settings = {name: create_setting(tracer, SettingData(name=name, kind=kind, address=address, postcode=postcode,
                                                         contact_name=contact, contact_phone=phone,
                                                         contact_email=email, size=size))
                for name, kind, address, postcode, contact, phone, email, size in DEMO_SETTINGS}
    home = settings["Ferncliffe Care Home"]
    resident = create_case(tracer, PersonData("Ione", "Nettlefold", date(d.year - 87, 2, 3), "07700 900301", None,
                                              "2 Ferncliffe Drive, Sheffield", "S11 8YA"),
                           test_date=d - timedelta(days=4), symptom_onset_date=d - timedelta(days=5))
    carer = add_contact(tracer, resident, PersonData("Bram", "Sallow", date(d.year - 29, 8, 9), "07700 900302", None,
                                                     "5 Imaginary Road, Sheffield", "S6 2AA"),
                        relationship="close", last_exposure_date=d - timedelta(days=4))
    outbreaks.link(tracer, home, case=resident, last_attended=d - timedelta(days=4))
    outbreaks.link(tracer, home, contact=carer, last_attended=d - timedelta(days=2))
    convert_contact(tracer, carer, test_date=d - timedelta(days=1), symptom_onset_date=d - timedelta(days=2))
    outbreak = outbreaks.live_outbreak(home.id)
    if outbreak is not None:
        outbreaks.add_action(supervisor, outbreak, kind="risk_assessment", due_date=None,
                             notes="Spoke to the manager: one resident and one carer positive, two residents with "
                                   "coughs. Visiting suspended; carers keep to one floor.")
    school_case = create_case(tracer, PersonData("Finn", "Rookwood", date(d.year - 8, 6, 1), "07700 900303", None,
                                                 "11 Pretend Road, Sheffield", "S10 2TN"),
                              test_date=d - timedelta(days=1), symptom_onset_date=None)
    outbreaks.link(tracer, settings["Pretend Primary School"], case=school_case, last_attended=d - timedelta(days=2))
    outbreaks.add_mention(school_case, "St Jude's church hall, Beavers on Tuesday", source="self_service")
