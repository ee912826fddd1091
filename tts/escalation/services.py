"""Escalations to the local team: opening them, doorstep visits, closing them."""
from datetime import datetime

from sqlalchemy import Select, func, select

from tts.audit.services import record_event
from tts.callqueue import events
from tts.callqueue.bands import raise_household
from tts.clock import utcnow
from tts.errors import ErrorCollector
from tts.escalation.models import VISIT_OUTCOMES, Escalation, Visit
from tts.extensions import db
from tts.people.models import Person


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


# --- Doorstep visits ---------------------------------------------------------------------------------------

OPEN_STATUSES = ("open", "assigned", "visited")


def assign_visit(actor, escalation: Escalation, officer) -> Escalation:
    errors = ErrorCollector()
    if officer is None or not officer.is_active or not officer.is_field_officer:
        errors.add("officer_id", "Choose an active field officer")
    if escalation.status == "resolved":
        errors.add("officer_id", "This escalation is already resolved")
    errors.raise_if_any()
    escalation.assignee_id = officer.id
    escalation.status = "assigned"
    db.session.flush()
    record_event(actor, "escalation.assign", escalation, {"officer_id": officer.id})
    return escalation


def record_visit(officer, escalation: Escalation, *, outcome: str | None, notes: str | None = None,
                 now: datetime | None = None) -> Visit:
    """Reached resolves it (and counts as reached); no answer can be visited again; the rest wait for a
    supervisor to close them with a reason."""
    now = now or utcnow()
    errors = ErrorCollector()
    if outcome not in VISIT_OUTCOMES:
        errors.add("outcome", "Choose what happened at the door")
    if escalation.status == "resolved":
        errors.add("outcome", "This escalation is already resolved")
    errors.raise_if_any()
    visit = Visit(escalation=escalation, officer_id=officer.id, outcome=outcome, notes=(notes or "").strip() or None,
                  created_at=now)
    db.session.add(visit)
    escalation.visit_outcome = outcome
    if outcome == "reached":
        escalation.status = "resolved"
        escalation.resolved_at = now
        escalation.resolution = "Reached on the doorstep"
        raise_household(escalation.person)
        if escalation.work_item is not None:
            events.person_reached.fire(officer, escalation.work_item, via="visit")
    elif outcome == "no_answer":
        escalation.status = "assigned"  # still on their list for another knock
    else:
        escalation.status = "visited"
    db.session.flush()
    record_event(officer, "escalation.visit", escalation, {"outcome": outcome, "visit_id": visit.id})
    return visit


def close_escalation(actor, escalation: Escalation, reason: str | None, now: datetime | None = None) -> Escalation:
    errors = ErrorCollector()
    if not (reason or "").strip():
        errors.add("reason", "Say why it is being closed")
    if escalation.status == "resolved":
        errors.add("reason", "This escalation is already resolved")
    errors.raise_if_any()
    escalation.status = "resolved"
    escalation.resolved_at = now or utcnow()
    escalation.resolution = reason.strip()[:300]
    db.session.flush()
    record_event(actor, "escalation.close", escalation, {"visit_outcome": escalation.visit_outcome})
    return escalation


def visit_list(officer_id: int | None) -> Select:
    """A field officer's visits (None: every officer's, officer by officer), ordered by postcode district so
    a round can be walked in order."""
    district = func.substr(Person.postcode, 1, func.instr(Person.postcode, " ") - 1) \
        if db.session.get_bind().dialect.name == "sqlite" else func.split_part(Person.postcode, " ", 1)
    stmt = select(Escalation).join(Person, Person.id == Escalation.person_id).where(Escalation.status == "assigned")
    if officer_id is not None:
        return stmt.where(Escalation.assignee_id == officer_id).order_by(
            district, Person.postcode, Person.address, Escalation.id)
    return stmt.order_by(Escalation.assignee_id, district, Person.postcode, Person.address, Escalation.id)


def filtered_escalations(*, status: str | None = None, reason: str | None = None, assignee_id: int | None = None,
                         district: str | None = None) -> Select:
    stmt = escalations_query(status=status, reason=reason)
    if assignee_id:
        stmt = stmt.where(Escalation.assignee_id == assignee_id)
    if district:
        stmt = stmt.join(Person, Person.id == Escalation.person_id).where(
            Person.postcode.startswith(district.strip().upper() + " "))
    return stmt
