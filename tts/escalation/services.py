"""Opening and listing escalations to the local team."""
from sqlalchemy import Select, select

from tts.audit.services import record_event
from tts.escalation.models import Escalation
from tts.extensions import db


def open_escalation(actor, item, reason: str, detail: str | None = None) -> Escalation:
    """Hand a person the queue could not reach to the local team, saying why."""
    escalation = Escalation(work_item_id=item.id, person_id=item.person_id,
                            household_id=item.person.household_id, reason=reason, detail=detail, status="open")
    db.session.add(escalation)
    db.session.flush()
    record_event(actor, "escalation.create", escalation, {"work_item_id": item.id, "reason": reason})
    return escalation


def escalations_query(*, status: str | None = None, reason: str | None = None) -> Select:
    stmt = select(Escalation).order_by(Escalation.created_at, Escalation.id)
    if status:
        stmt = stmt.where(Escalation.status == status)
    if reason:
        stmt = stmt.where(Escalation.reason == reason)
    return stmt
