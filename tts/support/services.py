"""Recording support needs and moving them to fulfilment."""
from datetime import datetime

from sqlalchemy import Select, select

from tts.audit.services import record_event
from tts.clock import utcnow
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.support import events
from tts.support.models import REFERRAL_TARGETS, STATUSES, URGENCIES, SupportKind, SupportNeed

# Where each status may go next.
TRANSITIONS = {
    "requested": {"referred", "fulfilled", "declined"},
    "referred": {"fulfilled", "declined", "referred"},
    "fulfilled": set(),
    "declined": set(),
}


def create_support_need(actor, person, *, kind: str | None, urgency: str | None = "routine",
                        notes: str | None = None) -> SupportNeed:
    errors = ErrorCollector()
    if kind not in {k.value for k in SupportKind}:
        errors.add("kind", "Choose what kind of support they need")
    if (urgency or "routine") not in URGENCIES:
        errors.add("urgency", "Choose how urgent it is")
    if notes and len(notes) > 2000:
        errors.add("notes", "Notes must be 2,000 characters or fewer")
    errors.raise_if_any()
    need = SupportNeed(person_id=person.id, kind=kind, urgency=urgency or "routine", status="requested",
                       notes=(notes or "").strip() or None, created_by_id=getattr(actor, "id", None))
    db.session.add(need)
    db.session.flush()
    record_event(actor, "support_need.create", need, {"person_id": person.id, "kind": kind})
    return need


def update_support_need(actor, need: SupportNeed, *, status: str | None, referred_to: str | None = None,
                        notes: str | None = None, notify: bool = False, now: datetime | None = None) -> SupportNeed:
    """requested -> referred (to whom) -> fulfilled or declined; `notify` texts the person when arranged."""
    errors = ErrorCollector()
    if status not in STATUSES:
        errors.add("status", "Choose a status")
    elif status != need.status and status not in TRANSITIONS[need.status]:
        errors.add("status", f"A {need.status} need cannot become {status}")
    if status == "referred" and not (referred_to or need.referred_to):
        errors.add("referred_to", "Say who it was referred to")
    if referred_to and referred_to not in REFERRAL_TARGETS:
        errors.add("referred_to", "Choose who it was referred to")
    errors.raise_if_any()
    previous = need.status
    need.status = status
    if referred_to:
        need.referred_to = referred_to
    if notes and notes.strip():
        need.notes = ((need.notes + "\n") if need.notes else "") + notes.strip()
    if status in ("fulfilled", "declined"):
        need.closed_at = now or utcnow()
    db.session.flush()
    record_event(actor, "support_need.update", need, {"from": previous, "to": status, "referred_to": need.referred_to})
    if notify and status in ("referred", "fulfilled"):
        events.arranged.fire(actor, need)  # telephony texts them
    return need


def support_needs_of(person_id: int) -> list[SupportNeed]:
    return list(db.session.scalars(select(SupportNeed).where(SupportNeed.person_id == person_id)
                                   .order_by(SupportNeed.created_at, SupportNeed.id)))


def support_queue(*, status: str | None = "open") -> Select:
    stmt = select(SupportNeed).order_by(
        SupportNeed.urgency == "routine", SupportNeed.urgency == "this_week", SupportNeed.created_at)
    if status == "open":
        stmt = stmt.where(SupportNeed.status.in_(("requested", "referred")))
    elif status:
        stmt = stmt.where(SupportNeed.status == status)
    return stmt
