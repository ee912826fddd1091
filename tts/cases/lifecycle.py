"""A case's and a contact's lifecycle.

A case is open until someone speaks to them, then isolating, then completed once its isolation has ended
and nothing is left to do. A contact goes open, reached, completed in the same way, or became_case when
they test positive. Staff close any case or contact with a reason; closing cancels its waiting calls and
its open escalations. Supervisors reopen. The worker completes finished records once a day.
"""
from datetime import date

from sqlalchemy import exists, select, update

from tts.audit.services import record_event
from tts.callqueue import events
from tts.callqueue.models import QUEUE_STATUSES, CallAttempt, ItemStatus, Outcome, WorkItem
from tts.callqueue.services import queue_initial_call
from tts.cases.models import Case, CaseStatus, ClosureReason, Contact, ContactStatus
from tts.clock import today, utcnow
from tts.errors import ErrorCollector
from tts.escalation.models import Escalation, EscalationStatus
from tts.extensions import db
from tts.jobs import LOCK_COMPLETE, job

CLOSED = "closed"
NOTES_MAX = 2000


@events.person_reached.register
def on_reached(_actor, item, via: str = "call") -> None:
    """Reached (on the phone, the doorstep, or by confirming their advice text): an open case is now
    isolating, an open contact reached; a contact records how they were first reached."""
    if item.case is not None and item.case.status == CaseStatus.OPEN:
        item.case.status = CaseStatus.ISOLATING
    if item.contact is not None:
        if item.contact.status == ContactStatus.OPEN:
            item.contact.status = ContactStatus.REACHED
        if item.contact.reached_by is None:
            item.contact.reached_by = via


def _kind(record) -> str:
    return "case" if isinstance(record, Case) else "contact"


def _items_of(record):
    column = WorkItem.case_id if isinstance(record, Case) else WorkItem.contact_id
    return column == record.id


def cancel_work(record, why: str, *, spare_live_claims: bool = False) -> tuple[int, int]:
    """Cancel the record's waiting calls (a claim on one ends with it) and resolve the escalations opened
    from them, saying why. Returns (calls, escalations). `spare_live_claims`: a call a tracer is making right
    now is left to them (the person confirmed by text while on the phone: the tracer records the call)."""
    now = utcnow()
    waiting = WorkItem.status.in_(QUEUE_STATUSES)
    if spare_live_claims:
        waiting = waiting & ~((WorkItem.status == ItemStatus.CLAIMED) & (WorkItem.claimed_until >= now))
    ids = list(db.session.scalars(select(WorkItem.id).where(_items_of(record), waiting).with_for_update()))
    if ids:
        db.session.execute(update(WorkItem).where(WorkItem.id.in_(ids)).values(
            status=ItemStatus.CANCELLED, closed_at=now, claimed_by_id=None, claimed_at=None, claimed_until=None,
            claim_token=None).execution_options(synchronize_session="fetch"))
    open_escalations = select(Escalation.id).where(
        Escalation.status != EscalationStatus.RESOLVED,
        Escalation.work_item_id.in_(select(WorkItem.id).where(_items_of(record))))
    resolved = db.session.execute(update(Escalation).where(Escalation.id.in_(open_escalations)).values(
        status=EscalationStatus.RESOLVED, resolved_at=now, resolution=why[:300])
        .execution_options(synchronize_session="fetch"))
    return len(ids), resolved.rowcount or 0


def close(actor, record, *, reason: str | None, notes: str | None = None):
    """Close a case or contact by hand, saying why (`other` needs notes). Its waiting calls are cancelled
    and its open escalations resolved with the reason."""
    errors = ErrorCollector()
    notes = (notes or "").strip() or None
    if reason not in ClosureReason.labels():
        errors.add("reason", "Choose why it is being closed")
    elif reason == ClosureReason.OTHER and not notes:
        errors.add("notes", "Say why it is being closed")
    if notes and len(notes) > NOTES_MAX:
        errors.add("notes", f"Notes must be {NOTES_MAX:,} characters or fewer")
    if record.status == CLOSED:
        errors.add("reason", f"This {_kind(record)} is already closed")
    elif record.status == ContactStatus.BECAME_CASE:
        errors.add("reason", "This contact became a case: close the case instead")
    errors.raise_if_any()
    record.status = CLOSED
    record.closure_reason, record.closure_notes = reason, notes
    record.closed_at, record.closed_by_id = utcnow(), getattr(actor, "id", None)
    calls, escalations = cancel_work(record, f"Closed: {ClosureReason.label_of(reason)}")
    db.session.flush()
    record_event(actor, f"{_kind(record)}.close", record, {"person_id": record.person_id, "reason": reason,
                                                         "calls_cancelled": calls,
                                                         "escalations_resolved": escalations})
    return record


def was_reached(record) -> bool:
    return bool(db.session.scalar(select(exists().where(
        CallAttempt.work_item_id == WorkItem.id, _items_of(record), CallAttempt.outcome == Outcome.REACHED))))


def reopen(actor, record):
    """Undo a closure (supervisors): back to isolating or reached if they were spoken to, else open with a
    first call queued again."""
    errors = ErrorCollector()
    if record.status != CLOSED:
        errors.add("reason", f"This {_kind(record)} is not closed")
    errors.raise_if_any()
    reached = was_reached(record)
    if isinstance(record, Case):
        record.status = CaseStatus.ISOLATING if reached else CaseStatus.OPEN
    else:
        record.status = ContactStatus.REACHED if reached else ContactStatus.OPEN
    record.closure_reason = record.closure_notes = record.closed_at = record.closed_by_id = None
    queued = None
    if not reached:
        kind = {"case": record} if isinstance(record, Case) else {"contact": record}
        queued = queue_initial_call(actor, **kind)
    db.session.flush()
    record_event(actor, f"{_kind(record)}.reopen", record, {"person_id": record.person_id,
                                                          "call_queued": queued.id if queued else None})
    return record


def _completed_today() -> bool:
    from tts.audit.models import AuditEvent
    from tts.clock import london_midnight

    return db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "records.complete", AuditEvent.at >= london_midnight(today())).limit(1)) is not None


@job("completed", lane="slow", lock=LOCK_COMPLETE, when=lambda: not _completed_today())
def complete_finished(on: date | None = None) -> int:
    """The worker's daily pass: cases whose isolation has ended, and reached contacts whose quarantine has,
    with no call left waiting, are completed. Returns how many."""
    on = on or today()
    waiting_case = exists().where(WorkItem.case_id == Case.id, WorkItem.status.in_(QUEUE_STATUSES))
    waiting_contact = exists().where(WorkItem.contact_id == Contact.id, WorkItem.status.in_(QUEUE_STATUSES))
    cases = db.session.execute(update(Case).where(
        Case.status == CaseStatus.ISOLATING, Case.isolation_end_date < on, ~waiting_case)
        .values(status=CaseStatus.COMPLETED).execution_options(synchronize_session=False)).rowcount or 0
    contacts = db.session.execute(update(Contact).where(
        Contact.status == ContactStatus.REACHED, Contact.quarantine_end_date < on, ~waiting_contact)
        .values(status=ContactStatus.COMPLETED).execution_options(synchronize_session=False)).rowcount or 0
    record_event(None, "records.complete", None, {"cases": cases, "contacts": contacts, "on": on.isoformat()})
    return cases + contacts
