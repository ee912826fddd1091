"""Retention: anonymise people whose tracing is long finished.

A person is due when every case and contact record about them has closed more than TTS_RETENTION_DAYS
ago (default 90): their isolation or quarantine period has ended, every call work item about them is
closed, and no support need or escalation about them is still open. Then their name, phone, email,
address, accessibility needs, free-text notes and text-message bodies are removed; the date of birth
becomes an age band and the postcode its district. Ids, dates, statuses and outcomes stay, so counts and
KPIs are unchanged (tests/people/test_retention.py proves it).
"""
from dataclasses import dataclass, field
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import exists, or_, select, update

from tts.audit.services import record_event
from tts.callqueue.models import CallAttempt, WorkItem
from tts.cases.models import Case, Contact, Correction
from tts.clock import today, utcnow
from tts.escalation.models import Escalation, Visit
from tts.extensions import db
from tts.people.models import Household, Note, Person
from tts.selfservice.models import SelfServiceLink, TeamAlert
from tts.people.validation import postcode_district
from tts.support.models import SupportNeed
from tts.telephony.models import Message
from tts.jobs import LOCK_RETENTION, job
from tts.transaction import command_boundary, undo

ANONYMISED_NAME = "Anonymised"
REMOVED = "[removed under the retention policy]"
OPEN_SUPPORT = ("requested", "in_progress")


@dataclass
class RetentionReport:
    cutoff_date: str
    people: list[int] = field(default_factory=list)
    households: list[int] = field(default_factory=list)
    messages: int = 0
    notes: int = 0

    def summary(self) -> str:
        return (f"{len(self.people)} people, {len(self.households)} households, {self.notes} free-text notes and "
                f"{self.messages} text messages closed before {self.cutoff_date}")


def due_people_query(days: int):
    """People whose every case and contact record closed more than `days` ago, not yet anonymised."""
    cutoff_day = today() - timedelta(days=days)
    cutoff = utcnow() - timedelta(days=days)
    has_record = or_(exists().where(Case.person_id == Person.id), exists().where(Contact.person_id == Person.id))
    open_case = exists().where(Case.person_id == Person.id, Case.isolation_end_date >= cutoff_day)
    open_contact = exists().where(Contact.person_id == Person.id, Contact.quarantine_end_date >= cutoff_day)
    open_work = exists().where(WorkItem.person_id == Person.id,
                               or_(WorkItem.closed_at.is_(None), WorkItem.closed_at >= cutoff))
    open_support = exists().where(SupportNeed.person_id == Person.id,
                                  or_(SupportNeed.closed_at.is_(None), SupportNeed.closed_at >= cutoff))
    open_escalation = exists().where(Escalation.person_id == Person.id,
                                     or_(Escalation.resolved_at.is_(None), Escalation.resolved_at >= cutoff))
    return (select(Person.id).where(Person.anonymised_at.is_(None), has_record, ~open_case, ~open_contact,
                                    ~open_work, ~open_support, ~open_escalation).order_by(Person.id))


def _first_record_date(person_id: int):
    dates = [d for d in (
        db.session.scalar(select(Case.test_date).where(Case.person_id == person_id).order_by(Case.test_date)),
        db.session.scalar(select(Contact.last_exposure_date).where(Contact.person_id == person_id)
                          .order_by(Contact.last_exposure_date)),
    ) if d is not None]
    return min(dates) if dates else today()


def run(days: int | None = None, *, dry_run: bool = False, batch: int = 500) -> RetentionReport:
    """Anonymise everyone due (or, with dry_run, only report them). The caller commits."""
    from tts.reports.datasets import age_band

    days = current_app.config["TTS_RETENTION_DAYS"] if days is None else days
    report = RetentionReport(cutoff_date=(today() - timedelta(days=days)).isoformat())
    ids = list(db.session.scalars(due_people_query(days)))
    report.people = ids
    if not ids:
        if not dry_run:
            record_event(None, "retention.run", None, {"people": 0, "households": 0, "cutoff_date": report.cutoff_date})
        return report
    # Households are anonymised once none of their members still needs tracing.
    household_ids = set(db.session.scalars(select(Person.household_id).where(Person.id.in_(ids),
                                                                             Person.household_id.is_not(None))))
    for household_id in sorted(household_ids):
        still_live = db.session.scalar(select(Person.id).where(Person.household_id == household_id,
                                                               Person.id.not_in(ids), Person.anonymised_at.is_(None))
                                       .limit(1))
        if still_live is None:
            report.households.append(household_id)
    report.messages = _count(select(Message.id).where(Message.person_id.in_(ids)))
    report.notes = sum(_count(stmt) for stmt in _note_queries(ids))
    if dry_run:
        return report
    now = utcnow()
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        for person in db.session.scalars(select(Person).where(Person.id.in_(chunk))):
            person.age_band = age_band(person.date_of_birth, _first_record_date(person.id))
            person.first_name = ANONYMISED_NAME
            person.last_name = ""
            person.date_of_birth = None
            person.phone = None
            person.email = None
            person.address = None
            person.postcode = postcode_district(person.postcode)
            person.accessibility_needs = None
            person.anonymised_at = now
        _scrub_free_text(chunk)
        db.session.flush()
    for household in db.session.scalars(select(Household).where(Household.id.in_(report.households))):
        household.address = REMOVED
        household.postcode = postcode_district(household.postcode) or ""
    db.session.flush()
    record_event(None, "retention.run", None, {"people": len(ids), "households": len(report.households),
                                               "cutoff_date": report.cutoff_date})
    return report


def due_today() -> bool:
    """The worker runs retention once a day: has it run yet today (London date)?"""
    from tts.audit.models import AuditEvent
    from tts.clock import london_midnight

    last = db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "retention.run",
                                                         AuditEvent.at >= london_midnight(today())).limit(1))
    return last is None


def _count(stmt) -> int:
    return len(db.session.scalars(stmt).all())


def _note_queries(ids: list[int]):
    return (
        select(CallAttempt.id).where(CallAttempt.person_id.in_(ids), CallAttempt.notes.is_not(None)),
        select(SupportNeed.id).where(SupportNeed.person_id.in_(ids), SupportNeed.notes.is_not(None)),
        select(Escalation.id).where(Escalation.person_id.in_(ids),
                                    or_(Escalation.notes.is_not(None), Escalation.detail.is_not(None),
                                        Escalation.resolution.is_not(None))),
        select(Visit.id).join(Escalation, Escalation.id == Visit.escalation_id)
        .where(Escalation.person_id.in_(ids), Visit.notes.is_not(None)),
        select(Correction.id).where(Correction.person_id.in_(ids)),
        select(Note.id).where(Note.person_id.in_(ids)),
        select(Case.id).where(Case.person_id.in_(ids), Case.closure_notes.is_not(None)),
        select(Contact.id).where(Contact.person_id.in_(ids), Contact.closure_notes.is_not(None)),
        select(SelfServiceLink.id).where(SelfServiceLink.person_id.in_(ids), SelfServiceLink.answers.is_not(None)),
        select(TeamAlert.id).where(TeamAlert.person_id.in_(ids), TeamAlert.detail.is_not(None)),
    )


def _scrub_free_text(ids: list[int]) -> None:
    opts = {"synchronize_session": False}
    db.session.execute(update(CallAttempt).where(CallAttempt.person_id.in_(ids), CallAttempt.notes.is_not(None))
                       .values(notes=REMOVED).execution_options(**opts))
    db.session.execute(update(SupportNeed).where(SupportNeed.person_id.in_(ids), SupportNeed.notes.is_not(None))
                       .values(notes=REMOVED).execution_options(**opts))
    db.session.execute(update(Escalation).where(Escalation.person_id.in_(ids))
                       .values(notes=None, detail=None, resolution=None).execution_options(**opts))
    escalation_ids = select(Escalation.id).where(Escalation.person_id.in_(ids)).scalar_subquery()
    db.session.execute(update(Visit).where(Visit.escalation_id.in_(escalation_ids), Visit.notes.is_not(None))
                       .values(notes=REMOVED).execution_options(**opts))
    db.session.execute(update(Message).where(Message.person_id.in_(ids))
                       .values(body=REMOVED, to_number=None, from_number=None).execution_options(**opts))
    db.session.execute(update(Correction).where(Correction.person_id.in_(ids))
                       .values(reason=REMOVED).execution_options(**opts))
    db.session.execute(update(Note).where(Note.person_id.in_(ids)).values(text=REMOVED).execution_options(**opts))
    for model in (Case, Contact):  # a closure's free-text notes
        db.session.execute(update(model).where(model.person_id.in_(ids), model.closure_notes.is_not(None))
                           .values(closure_notes=REMOVED).execution_options(**opts))
    # What they typed into the online form (names and numbers of the people they named, where they went), and
    # what an alert said about them.
    db.session.execute(update(SelfServiceLink).where(SelfServiceLink.person_id.in_(ids))
                       .values(answers=None).execution_options(**opts))
    db.session.execute(update(TeamAlert).where(TeamAlert.person_id.in_(ids), TeamAlert.detail.is_not(None))
                       .values(detail=None).execution_options(**opts))
    # Letters about them (the PDFs name them and give their dates), and places they named in their own words.
    from tts.letters.models import Letter
    from tts.outbreaks.models import SettingMention

    cases = select(Case.id).where(Case.person_id.in_(ids)).scalar_subquery()
    contacts = select(Contact.id).where(Contact.person_id.in_(ids)).scalar_subquery()
    db.session.execute(update(Letter).where(Letter.case_id.in_(cases) | Letter.contact_id.in_(contacts))
                       .values(pdf=None, pdf_bytes=0, email_to=None, email_error=None).execution_options(**opts))
    db.session.execute(update(SettingMention).where(SettingMention.case_id.in_(cases)
                                                    | SettingMention.contact_id.in_(contacts))
                       .values(text=REMOVED).execution_options(**opts))
    db.session.expire_all()


@click.group("retention")
def retention_cli():
    """Anonymise people whose records closed longer ago than the retention period."""


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="List what would change, change nothing.")
@click.option("--days", type=int, default=None, help="Retention period in days (default TTS_RETENTION_DAYS, 90).")
@with_appcontext
@command_boundary
def run_command(dry_run: bool, days: int | None):
    report = run(days, dry_run=dry_run)
    if dry_run:
        undo()  # a dry run changes nothing
        click.echo(f"Dry run: would anonymise {report.summary()}.")
        if report.people:
            click.echo("Person ids: " + ", ".join(str(i) for i in report.people))
        return
    click.echo(f"Anonymised {report.summary()}.")


@job("anonymised", lock=LOCK_RETENTION, when=lambda: due_today())
def anonymise_due() -> int:
    """The worker's daily pass: anonymise what the retention period says is due."""
    return len(run().people)
