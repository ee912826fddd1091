"""A person's timeline: everything that happened to them, newest first."""
from dataclasses import dataclass
from datetime import datetime


@dataclass
class TimelineEntry:
    at: datetime
    title: str
    detail: str
    link_endpoint: str | None = None
    link_args: dict | None = None


def person_timeline(person) -> list[TimelineEntry]:
    """Case and contact records, calls and escalations; messages and support join as those features land."""
    entries = []
    for case in person.cases:
        onset = f"symptoms from {case.symptom_onset_date:%-d %B %Y}" if case.symptom_onset_date else "no symptoms"
        entries.append(TimelineEntry(case.created_at, f"Positive case {case.reference}",
                                     f"Tested {case.test_date:%-d %B %Y}, {onset}. "
                                     f"Isolation ends {case.isolation_end_date:%-d %B %Y}.",
                                     "cases.show", {"case_id": case.id}))
    for contact in person.contact_records:
        entries.append(TimelineEntry(contact.created_at, f"Named as a {contact.relationship_} contact of {contact.case.reference}",
                                     f"Last contact {contact.last_exposure_date:%-d %B %Y}. "
                                     f"Quarantine ends {contact.quarantine_end_date:%-d %B %Y}.",
                                     "cases.show", {"case_id": contact.case_id}))
    from sqlalchemy import select

    from tts.callqueue.models import OUTCOME_LABELS, CallAttempt, Outcome
    from tts.escalation.models import REASON_LABELS, Escalation
    from tts.extensions import db

    for attempt in db.session.scalars(select(CallAttempt).where(CallAttempt.person_id == person.id)):
        detail = f"By {attempt.tracer.name}."
        if attempt.notes:
            detail += f" Notes: {attempt.notes}"
        entries.append(TimelineEntry(attempt.created_at, f"Call: {OUTCOME_LABELS[Outcome(attempt.outcome)]}", detail,
                                     "callqueue.call", {"item_id": attempt.work_item_id}))
    for escalation in db.session.scalars(select(Escalation).where(Escalation.person_id == person.id)):
        entries.append(TimelineEntry(escalation.created_at, "Escalated to the local team",
                                     REASON_LABELS.get(escalation.reason, escalation.reason) + ".", None, None))
    from tts.telephony.models import Message

    for message in db.session.scalars(select(Message).where(Message.person_id == person.id)):
        title = ("Text received" if message.direction == "inbound" else "Text sent") + f" ({message.status})"
        entries.append(TimelineEntry(message.created_at, title, message.body + (
            f" [{message.error_message}]" if message.error_message else "")))
    from tts.cases.corrections import FIELD_LABELS
    from tts.cases.models import Correction

    for correction in db.session.scalars(select(Correction).where(Correction.person_id == person.id)):
        changed = ", ".join(FIELD_LABELS.get(f, f) for f in correction.fields)
        who = f" by {correction.actor.name}" if correction.actor else ""
        entries.append(TimelineEntry(correction.created_at, f"{changed[0].upper()}{changed[1:]} corrected{who}",
                                     f"Reason: {correction.reason}"))
    for record in (*person.cases, *person.contact_records):
        if record.closed_at is not None:
            what = f"Case {record.reference}" if hasattr(record, "reference") else f"Contact record ({record.case.reference})"
            entries.append(TimelineEntry(record.closed_at, f"{what} closed: {record.closure_label.lower()}",
                                         record.closure_notes or ""))
    from tts.people.models import Note

    for note in db.session.scalars(select(Note).where(Note.person_id == person.id)):
        where = next((f" on case {c.reference}" for c in person.cases if c.id == note.case_id), "")
        who = f" by {note.author.name}" if note.author else ""
        entries.append(TimelineEntry(note.created_at, f"Note{where}{who}", note.text))
    return sorted(entries, key=lambda e: e.at, reverse=True)
