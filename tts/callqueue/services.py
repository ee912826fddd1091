"""The queue's work: creating it, claiming it (leases, with the others reachable on the same call),
releasing it, and escalating what the queue cannot reach. What an outcome does is in outcomes.py."""
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload

from tts.audit.services import record_event
from tts.callqueue import events, statements
from tts.callqueue.bands import BAND_OTHER, compute_band, fifo
from tts.callqueue.errors import ClaimConflict, NotClaimHolder, WorkItemNotFound
from tts.callqueue.hours import is_calling_time, next_calling_start
from tts.callqueue.models import QUEUE_STATUSES, ItemKind, ItemStatus, WorkItem
from tts.clock import utcnow
from tts.escalation.models import EscalationReason
from tts.escalation.services import open_escalation
from tts.extensions import db
from tts.jobs import LOCK_SWEEP, job
from tts.people.languages import ENGLISH, code_for, plain_name, speaks
from tts.people.models import Person
from tts.people.validation import is_mobile

log = logging.getLogger(__name__)


@dataclass
class Claim:
    """What one claim hands a tracer: the item to call and others reachable on the same call."""

    item: WorkItem
    also_claimed: list[WorkItem] = field(default_factory=list)


def lease() -> timedelta:
    return timedelta(minutes=current_app.config["TTS_CLAIM_LEASE_MINUTES"])


def create_work_item(actor, *, kind: str, person: Person, case=None, contact=None, due_at: datetime | None = None,
                     assignee=None, assigned_until: datetime | None = None, origin: WorkItem | None = None,
                     band: int | None = None) -> WorkItem:
    """Queue a call. Someone with no phone number is escalated at once: nobody can call them. `band`: a
    priority the caller decides (a reported symptom, a check-in reply), else the queue's rules."""
    item = WorkItem(kind=kind, person=person, case=case, contact=contact, due_at=due_at or utcnow(),
                    status=ItemStatus.OPEN, assignee=assignee, assigned_until=assigned_until,
                    origin_item_id=getattr(origin, "id", None), band=BAND_OTHER)
    db.session.add(item)
    item.band = band if band is not None else compute_band(item, person)
    route_by_language(item, person)
    db.session.flush()
    record_event(actor, "work_item.create", item, {"kind": kind, "person_id": person.id})
    if not person.phone:
        escalate_item(actor, item, EscalationReason.NO_PHONE)
    else:
        events.item_created.fire(actor, item)  # the introduction text, in this same transaction
    return item


def find_speaker(language: str | None, exclude_id: int | None = None):
    """The active tracer (or supervisor) who lists `language` (a code or a name) and has the fewest waiting
    calls assigned, or None. Staff list languages by name on their account page."""
    from tts.auth.models import User

    code = code_for(language)
    wanted = (language or "").strip().lower()
    if not wanted or code == ENGLISH:
        return None
    speakers = [u for u in db.session.scalars(select(User).where(User.is_active.is_(True),
                                                                 User.role.in_(("tracer", "supervisor"))))
                if u.id != exclude_id and (speaks(u.language_list, code) if code
                                           else wanted in {lang.lower() for lang in u.language_list})]
    if not speakers:
        return None
    load = dict(db.session.execute(select(WorkItem.assignee_id, func.count()).where(
        WorkItem.assignee_id.in_([s.id for s in speakers]), WorkItem.status.in_(QUEUE_STATUSES))
        .group_by(WorkItem.assignee_id)).all())
    return min(speakers, key=lambda s: (load.get(s.id, 0), s.id))


def route_by_language(item: WorkItem, person: Person) -> None:
    """Someone who speaks another language is called in it from the first call: the item names the language,
    and goes to a tracer who lists it (or waits in the pool for an interpreter-assisted call)."""
    if not person.language or person.language == ENGLISH or item.kind == ItemKind.DOORSTEP_VISIT:
        return
    item.language = plain_name(person.language)
    if item.assignee_id is None and item.assignee is None:
        speaker = find_speaker(person.language)
        if speaker is not None:
            item.assignee_id = speaker.id


def queue_initial_call(actor, *, case=None, contact=None) -> WorkItem:
    subject = case if case is not None else contact
    return create_work_item(actor, kind=ItemKind.INITIAL_CALL, person=subject.person, case=case, contact=contact,
                            due_at=_held_for_self_service(subject.person) if case is not None else None)


def _held_for_self_service(person: Person) -> datetime | None:
    """TTS_SELF_SERVICE_HOLD_HOURS: a new case's first call waits this long for them to complete the online
    form from their introduction text (the call is due at once when they do). Never for people flagged
    vulnerable, nor for those the text cannot reach (no mobile, opted out)."""
    hours = current_app.config.get("TTS_SELF_SERVICE_HOLD_HOURS") or 0
    if (hours <= 0 or not current_app.config.get("TTS_SELF_SERVICE", True) or person.is_vulnerable
            or not person.phone or person.has_sms_opt_out or not is_mobile(person.phone)):
        return None
    return utcnow() + timedelta(hours=hours)


def _locked_candidate(from_pool: bool, me_id: int, now: datetime, exclude_people: set[int]) -> WorkItem | None:
    stmt = statements.candidate_statement(from_pool, fifo(), bool(exclude_people), statements.dialect_name())
    values = {"now": now, "me_id": me_id}
    if exclude_people:
        values["excluded"] = sorted(exclude_people)
    return db.session.scalars(stmt, values).first()


def _people_held(people: list[int], me_id: int, now: datetime) -> set[int]:
    """Which of these people are on a live claim of another tracer. Run after their rows are locked, in a
    new statement that sees every claim committed meanwhile."""
    return set(db.session.scalars(statements.people_held_statement(statements.dialect_name()), {"people": people, "me_id": me_id, "now": now}))


def _person_is_free(person_id: int, me_id: int, now: datetime) -> bool:
    return not _people_held([person_id], me_id, now)


def _take(item: WorkItem, user, now: datetime) -> None:
    item.status = ItemStatus.CLAIMED
    item.claimed_by_id = user.id
    item.claimed_at = now
    item.claimed_until = now + lease()
    item.claim_token = uuid.uuid4().hex


def _companion_candidates(item: WorkItem, user, now: datetime) -> list[WorkItem]:
    """Other due items reachable on the same call: the same person, their household, their phone number,
    in queue order. Each is locked here (or skipped if another claim is taking it right now); the caller
    takes, up to TTS_MAX_COMPANIONS, those whose person is not on another tracer's call (`_people_held`,
    after the locks: the one check that counts, so this statement does not look at other claims)."""
    if fifo() or current_app.config["TTS_MAX_COMPANIONS"] <= 0:
        return []
    person = item.person
    # One statement: the people (three index lookups in a subquery the database runs first), then their
    # queued items by the person_id index; never a join it may drive from the whole queue. No ORDER BY ...
    # LIMIT in SQL either, which tempts the planner to walk the queue index in order: the few rows of these
    # people are ordered here.
    return sorted(db.session.scalars(statements.companions_statement(statements.dialect_name()), {
        "now": now, "me_id": user.id, "item_id": item.id, "person_id": person.id,
        "household_id": person.household_id, "phone": person.phone}).all(),
        key=lambda w: (w.band, w.due_at, w.id))


def claim_next(user, now: datetime | None = None) -> Claim | None:
    """Claim the highest-priority due item for `user` (with companions for the same call), or None.

    The caller commits at once: the claim is a lease, and no lock is held while the tracer calls.
    """
    now = now or utcnow()
    if not is_calling_time(now):
        return None
    excluded: set[int] = set()
    for _ in range(20):
        mine = _locked_candidate(False, user.id, now, excluded)
        pool = _locked_candidate(True, user.id, now, excluded)
        options = [c for c in (mine, pool) if c is not None]
        if not options:
            if excluded:  # counts only: nothing personal in logs
                log.info("claim: nothing left after passing over %d people on other tracers' calls", len(excluded))
            return None
        # An item assigned to this tracer comes before pool items of the same band.
        item = min(options, key=lambda c: ((0 if fifo() else c.band), 0 if c is mine else 1, c.due_at, c.id))
        with db.session.no_autoflush:
            chosen = _companion_candidates(item, user, now)
            # Now that their rows are locked, a new statement (a new snapshot) sees every claim committed
            # meanwhile: is the person, or any companion, on another tracer's call? One statement for all.
            held = _people_held(sorted({item.person_id, *(o.person_id for o in chosen)}), user.id, now)
        if item.person_id in held:
            excluded.add(item.person_id)
            continue
        # Nothing is flushed between the candidates' reads and here, so the item and its companions are
        # written by one UPDATE when the claim is flushed. One call reaches at most a household's worth of
        # people (TTS_MAX_COMPANIONS, default 5): a number shared far more widely (a care home's office
        # phone, say) must not hand one tracer dozens of calls.
        _take(item, user, now)
        also = [other for other in chosen if other.person_id not in held][:current_app.config["TTS_MAX_COMPANIONS"]]
        for other in also:
            _take(other, user, now)
        db.session.flush()
        record_event(user, "work_item.claim", item, {"person_id": item.person_id,
                                                     "also_claimed": [o.id for o in also]})
        return Claim(item, also)
    # Twenty candidates in a row were people another tracer took meanwhile: the queue is in a storm of
    # claims for the same households. The tracer is told nobody is waiting and tries again.
    log.warning("claim: gave up after %d candidates on other tracers' calls", len(excluded))
    return None


def claim_item(user, item: WorkItem, now: datetime | None = None) -> Claim:
    """Claim a particular item (opened from search or the person page) if nobody else holds it."""
    now = now or utcnow()
    locked = db.session.scalars(select(WorkItem).join(Person, Person.id == WorkItem.person_id)
                                .where(WorkItem.id == item.id).with_for_update(of=[WorkItem, Person])).one()
    if not locked.is_open:
        raise ClaimConflict("This item is no longer in the queue")
    if locked.is_claimed_by(user, now):
        return Claim(locked, [])
    if locked.is_held_by_other(user, now) or not _person_is_free(locked.person_id, user.id, now):
        raise ClaimConflict(f"{locked.person.full_name} is being called by another tracer")
    _take(locked, user, now)
    db.session.flush()
    record_event(user, "work_item.claim", locked, {"person_id": locked.person_id, "direct": True})
    return Claim(locked, [])


def lock_held(user, item: WorkItem | int, claim_token: str | None, now: datetime, *,
               with_subject: bool = False) -> tuple[WorkItem, int | None]:
    """The held item, locked, and (with_subject) the id of the tracer's latest masked call for it, if any."""
    # Locked and read afresh in one statement (populate_existing: the row as committed, not as this
    # session last saw it); only the item's row is locked (FOR UPDATE OF work_items). Given an id (the
    # API's outcome), this is the item's only read: WorkItemNotFound if there is none.
    item_id = item if isinstance(item, int) else item.id
    if with_subject:
        row = db.session.execute(statements.lock_statement(True), {"item_id": item_id, "tracer_id": user.id}).one_or_none()
        locked, call_id = row if row is not None else (None, None)
    else:
        locked, call_id = db.session.scalars(statements.lock_statement(False), {"item_id": item_id}).one_or_none(), None
    if locked is None:
        raise WorkItemNotFound(f"There is no work item {item_id}")
    if (locked.status != ItemStatus.CLAIMED or locked.claimed_by_id != user.id
            or (claim_token is not None and claim_token != locked.claim_token)):
        raise NotClaimHolder("You no longer hold this item: it was reassigned, or taken after your claim expired")
    return locked, call_id


def release_item(user, item: WorkItem, claim_token: str | None = None, now: datetime | None = None) -> WorkItem:
    """Give a claimed item back to the queue, untouched."""
    now = now or utcnow()
    locked, _ = lock_held(user, item, claim_token, now)
    clear_claim(locked)
    locked.status = ItemStatus.OPEN
    db.session.flush()
    record_event(user, "work_item.release", locked)
    return locked


def extend_claims(user, now: datetime | None = None) -> int:
    """The call screen's heartbeat: extend every claim this tracer still holds."""
    now = now or utcnow()
    result = db.session.execute(
        update(WorkItem).where(WorkItem.claimed_by_id == user.id, WorkItem.status == ItemStatus.CLAIMED)
        .values(claimed_until=now + lease()))
    return result.rowcount or 0


def held_items(user, now: datetime | None = None) -> list[WorkItem]:
    now = now or utcnow()
    return list(db.session.scalars(select(WorkItem).options(joinedload(WorkItem.person)).where(
        WorkItem.claimed_by_id == user.id, WorkItem.status == ItemStatus.CLAIMED, WorkItem.claimed_until >= now)
        .order_by(WorkItem.claimed_at, WorkItem.id)))


def clear_claim(item: WorkItem) -> None:
    item.claimed_by_id = None
    item.claimed_at = None
    item.claimed_until = None
    item.claim_token = None


def escalate_item(actor, item: WorkItem, reason: str, detail: str | None = None):
    item.status = ItemStatus.ESCALATED
    item.closed_at = utcnow()
    clear_claim(item)
    return open_escalation(actor, item, reason, detail)


@job("escalated", lock=LOCK_SWEEP)
def escalate_overdue(now: datetime | None = None) -> int:
    """Periodic: first calls still unreached 24 h after creation go to the local team."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=current_app.config["TTS_ESCALATE_AFTER_HOURS"])
    not_held = or_(WorkItem.status == ItemStatus.OPEN,
                   and_(WorkItem.status == ItemStatus.CLAIMED, WorkItem.claimed_until < now))
    stmt = (select(WorkItem).where(WorkItem.kind == ItemKind.INITIAL_CALL, WorkItem.created_at <= cutoff, not_held)
            .with_for_update(skip_locked=True))
    count = 0
    for item in db.session.scalars(stmt).all():
        escalate_item(None, item, EscalationReason.OVERDUE,
                      f"Not reached {current_app.config['TTS_ESCALATE_AFTER_HOURS']} hours after it was created")
        count += 1
    return count


def calling_resumes_at(now: datetime | None = None) -> datetime | None:
    now = now or utcnow()
    return None if is_calling_time(now) else next_calling_start(now)
