"""A person's timeline: everything that happened to them, newest first.

Every kind of event has its entry: their cases and contact records (and a contact becoming a case), calls,
texts, support needs, escalations and doorstep visits, corrections, status changes (closed, reopened,
completed), and notes. Each is read from the record it is about; the reopenings from the audit log, which
is the only place that keeps them.
"""
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import or_, select

from tts.clock import LONDON
from tts.extensions import db


@dataclass
class TimelineEntry:
    at: datetime
    title: str
    detail: str
    link_endpoint: str | None = None
    link_args: dict | None = None


def _end_of(day) -> datetime:
    """The moment a record finished: the first minute after its last day of isolation or quarantine."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=LONDON)


def _records(person) -> list[TimelineEntry]:
    entries = []
    for case in person.cases:
        onset = f"symptoms from {case.symptom_onset_date:%-d %B %Y}" if case.symptom_onset_date else "no symptoms"
        caught = f" A contact of case {case.exposed_by.reference} who tested positive." if case.exposed_by else ""
        entries.append(TimelineEntry(case.created_at, f"Positive case {case.reference}",
                                     f"Tested {case.test_date:%-d %B %Y}, {onset}. "
                                     f"Isolation ends {case.isolation_end_date:%-d %B %Y}.{caught}",
                                     "cases.show", {"case_id": case.id}))
        if case.status == "completed":
            entries.append(TimelineEntry(_end_of(case.isolation_end_date), f"Case {case.reference} completed",
                                         "Isolation ended with nothing left to do."))
    for contact in person.contact_records:
        entries.append(TimelineEntry(contact.created_at, f"Named as a {contact.relationship_} contact of {contact.case.reference}",
                                     f"Last contact {contact.last_exposure_date:%-d %B %Y}. "
                                     f"Quarantine ends {contact.quarantine_end_date:%-d %B %Y}.",
                                     "cases.show", {"case_id": contact.case_id}))
        if contact.status == "completed":
            entries.append(TimelineEntry(_end_of(contact.quarantine_end_date),
                                         f"Contact record ({contact.case.reference}) completed",
                                         "Quarantine ended with nothing left to do."))
        if contact.became_case is not None:
            entries.append(TimelineEntry(contact.became_case.created_at,
                                         f"Contact of {contact.case.reference} became a case",
                                         f"Tested positive: case {contact.became_case.reference}.", "cases.show",
                                         {"case_id": contact.became_case_id}))
    return entries


def _closings(person) -> list[TimelineEntry]:
    """Each time a record was closed or reopened (the audit log keeps every one; a record keeps only its
    current closure, whose notes are shown)."""
    from tts.audit.models import AuditEvent
    from tts.cases.models import ClosureReason

    cases = {c.id: c for c in person.cases}
    contacts = {c.id: c for c in person.contact_records}
    if not cases and not contacts:
        return []
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("case.close", "contact.close", "case.reopen", "contact.reopen")), or_(
            (AuditEvent.record_type == "case") & AuditEvent.record_id.in_(list(cases) or [0]),
            (AuditEvent.record_type == "contact") & AuditEvent.record_id.in_(list(contacts) or [0])))
        .order_by(AuditEvent.id))
    entries = []
    for event in events:
        record = cases[event.record_id] if event.record_type == "case" else contacts[event.record_id]
        what = f"Case {record.reference}" if event.record_type == "case" else f"Contact record ({record.case.reference})"
        who = f" by {event.actor.name}" if event.actor else ""
        if event.action.endswith(".reopen"):
            entries.append(TimelineEntry(event.at, f"{what} reopened{who}", ""))
        else:
            reason = ClosureReason.label_of((event.details or {}).get("reason")).lower()
            current = record.closed_at is not None and abs((record.closed_at - event.at).total_seconds()) < 60
            entries.append(TimelineEntry(event.at, f"{what} closed{who}: {reason}",
                                         (record.closure_notes or "") if current else ""))
    return entries


def _work(person) -> list[TimelineEntry]:
    from tts.callqueue.models import OUTCOME_LABELS, CallAttempt, Outcome
    from tts.escalation.models import REASON_LABELS, VISIT_OUTCOMES, Escalation, Visit
    from tts.support.models import KIND_LABELS, SupportStatus, SupportNeed
    from tts.telephony.models import Message

    entries = []
    for attempt in db.session.scalars(select(CallAttempt).where(CallAttempt.person_id == person.id)):
        detail = f"By {attempt.tracer.name}."
        if attempt.notes:
            detail += f" Notes: {attempt.notes}"
        entries.append(TimelineEntry(attempt.created_at, f"Call: {OUTCOME_LABELS[Outcome(attempt.outcome)]}", detail,
                                     "callqueue.call", {"item_id": attempt.work_item_id}))
    for escalation in db.session.scalars(select(Escalation).where(Escalation.person_id == person.id)):
        entries.append(TimelineEntry(escalation.created_at, "Escalated to the local team",
                                     REASON_LABELS.get(escalation.reason, escalation.reason) + "."))
        if escalation.resolved_at is not None:
            entries.append(TimelineEntry(escalation.resolved_at, "Escalation resolved", escalation.resolution or ""))
    visits = db.session.scalars(select(Visit).join(Escalation, Escalation.id == Visit.escalation_id)
                                .where(Escalation.person_id == person.id))
    for visit in visits:
        detail = f"By {visit.officer.name}." + (f" Notes: {visit.notes}" if visit.notes else "")
        entries.append(TimelineEntry(visit.created_at, f"Doorstep visit: {VISIT_OUTCOMES.get(visit.outcome, visit.outcome)}",
                                     detail))
    for need in db.session.scalars(select(SupportNeed).where(SupportNeed.person_id == person.id)):
        status = SupportStatus.label_of(need.status).lower()
        referred = f", referred to {need.referred_to}" if need.referred_to else ""
        entries.append(TimelineEntry(need.created_at, f"Support asked for: {KIND_LABELS.get(need.kind, need.kind)}",
                                     f"Urgency {need.urgency.replace('_', ' ')}; now {status}{referred}."
                                     + (f" Notes: {need.notes}" if need.notes else "")))
    for message in db.session.scalars(select(Message).where(Message.person_id == person.id)):
        title = ("Text received" if message.direction == "inbound" else "Text sent") + f" ({message.status})"
        entries.append(TimelineEntry(message.created_at, title, message.body + (
            f" [{message.error_message}]" if message.error_message else "")))
    return entries


def _changes(person) -> list[TimelineEntry]:
    from tts.cases.corrections import FIELD_LABELS
    from tts.cases.models import Correction
    from tts.people.models import Note

    entries = []
    for correction in db.session.scalars(select(Correction).where(Correction.person_id == person.id)):
        changed = ", ".join(FIELD_LABELS.get(f, f) for f in correction.fields)
        who = f" by {correction.actor.name}" if correction.actor else ""
        entries.append(TimelineEntry(correction.created_at, f"{changed[0].upper()}{changed[1:]} corrected{who}",
                                     f"Reason: {correction.reason}"))
    for note in db.session.scalars(select(Note).where(Note.person_id == person.id)):
        where = next((f" on case {c.reference}" for c in person.cases if c.id == note.case_id), "")
        who = f" by {note.author.name}" if note.author else ""
        entries.append(TimelineEntry(note.created_at, f"Note{where}{who}", note.text))
    return entries


def person_timeline(person) -> list[TimelineEntry]:
    entries = [*_records(person), *_closings(person), *_work(person), *_changes(person)]
    return sorted(entries, key=lambda e: e.at, reverse=True)
