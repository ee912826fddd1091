"""Bulk actions on the Cases list (supervisors): close with a reason, assign to a tracer, send a text.

Each checks what it is given once, then acts on every selected case it can, and reports the rest with why
(already closed, no mobile number, opted out...). One audit event a case, as if done one at a time.
"""
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tts.audit.services import record_event
from tts.callqueue.models import QUEUE_STATUSES, WorkItem
from tts.cases import lifecycle
from tts.cases.models import Case, ClosureReason
from tts.errors import ErrorCollector, ValidationFailed
from tts.extensions import db

MAX_SELECTED = 500


@dataclass
class BulkReport:
    action: str
    done: list[Case] = field(default_factory=list)
    skipped: list[tuple[Case, str]] = field(default_factory=list)
    detail: str = ""


def selected_cases(case_ids, errors: ErrorCollector | None = None, *, lock: bool = True) -> list[Case]:
    """The selected cases, in id order (locked, so two supervisors' bulk actions cannot interleave)."""
    errors = errors or ErrorCollector()
    ids = sorted({int(i) for i in case_ids})
    if not ids:
        errors.add("case_ids", "Select at least one case")
    elif len(ids) > MAX_SELECTED:
        errors.add("case_ids", f"Select {MAX_SELECTED} cases or fewer at a time")
    errors.raise_if_any()
    stmt = select(Case).where(Case.id.in_(ids)).options(selectinload(Case.person)).order_by(Case.id)
    cases = list(db.session.scalars(stmt.with_for_update() if lock else stmt))
    if not cases:
        errors.add("case_ids", "None of the selected cases exist any more")
        errors.raise_if_any()
    return cases


def close_cases(actor, case_ids, *, reason: str | None, notes: str | None) -> BulkReport:
    errors = ErrorCollector()
    if reason not in ClosureReason.labels():
        errors.add("reason", "Choose why they are being closed")
    elif reason == ClosureReason.OTHER and not (notes or "").strip():
        errors.add("notes", "Say why they are being closed")
    cases = selected_cases(case_ids, errors)
    errors.raise_if_any()
    report = BulkReport("close", detail=ClosureReason.label_of(reason))
    for case in cases:
        if not case.may_close:
            report.skipped.append((case, f"Already {case.status_label.lower()}"))
            continue
        try:
            lifecycle.close(actor, case, reason=reason, notes=notes)
        except ValidationFailed as exc:  # a rule of closing a single case (notes too long...)
            report.skipped.append((case, "; ".join(m for ms in exc.errors.values() for m in ms)))
            continue
        report.done.append(case)
    return report


def assign_cases(actor, case_ids, *, assignee_id) -> BulkReport:
    """The cases become the tracer's: shown in their Cases list, and each case's waiting calls assigned to
    them (a claim another tracer held ends, as with the queue's reassign)."""
    from tts.auth.models import User
    from tts.supervision.services import STAFF_WHO_CALL, reassign_items

    errors = ErrorCollector()
    assignee = db.session.get(User, assignee_id) if isinstance(assignee_id, int) else None
    if assignee is None or not assignee.is_active or assignee.role not in STAFF_WHO_CALL:
        errors.add("assignee_id", "Choose an active tracer or supervisor")
    cases = selected_cases(case_ids, errors)
    errors.raise_if_any()
    report = BulkReport("assign", detail=assignee.name)
    moved = 0
    for case in cases:
        if not case.may_close:
            report.skipped.append((case, f"{case.status_label}: nothing left to do"))
            continue
        case.assigned_to_id = assignee.id
        items = list(db.session.scalars(select(WorkItem.id).where(WorkItem.case_id == case.id,
                                                                  WorkItem.status.in_(QUEUE_STATUSES))))
        if items:
            changed, _ = reassign_items(actor, items, assignee)
            moved += len(changed)
        record_event(actor, "case.assign", case, {"to": assignee.id, "calls": len(items)})
        report.done.append(case)
    report.detail += f" ({moved} waiting call{'' if moved == 1 else 's'} moved to them)"
    return report


def text_cases(actor, case_ids, *, trigger: str | None) -> BulkReport:
    """A text from a template to each case's person, written to the outbox; those it cannot go to are
    reported with why (no phone, not a mobile, opted out, anonymised)."""
    from tts.telephony.models import MessageStatus
    from tts.telephony.services import get_template, queue_sms

    errors = ErrorCollector()
    template = get_template(trigger) if trigger else None
    if template is None:
        errors.add("trigger", "Choose a text to send")
    elif not template.is_enabled:
        errors.add("trigger", f"The text “{template.name}” is turned off: an administrator can turn it on")
    cases = selected_cases(case_ids, errors)
    errors.raise_if_any()
    report = BulkReport("text", detail=template.name)
    texted: set[int] = set()
    for case in cases:
        person = case.person
        if person.anonymised_at is not None:
            report.skipped.append((case, "Not sent: their record is anonymised"))
        elif not person.phone:
            report.skipped.append((case, "Not sent: no phone number"))
        elif person.id in texted:
            report.skipped.append((case, "Not sent again: the same person is selected twice"))
        else:
            message = queue_sms(actor, person, trigger, case=case)
            if message is not None and message.status == MessageStatus.SKIPPED:
                report.skipped.append((case, message.error_message))
            else:
                texted.add(person.id)
                report.done.append(case)
    return report
