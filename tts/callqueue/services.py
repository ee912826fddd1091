"""The queue's rules: creating work, claiming it (leases), recording call outcomes, retries, escalation."""
import functools
import itertools
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Integer, all_, and_, any_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased, contains_eager, joinedload

from tts.audit.services import record_event
from tts.callqueue.hours import calling_day_end, is_calling_time, next_calling_start, retry_at
from tts.callqueue.models import (
    FAILED_OUTCOMES,
    QUEUE_STATUSES,
    CallAttempt,
    ItemKind,
    ItemStatus,
    Outcome,
    WorkItem,
)
from tts.clock import utcnow
from tts.errors import DomainError, ErrorCollector
from tts.escalation.models import EscalationReason
from tts.escalation.services import open_escalation
from tts.extensions import db
from tts.people.models import Person


# The queue's statements are built once and shared by every thread of a process. Building them touches
# SQLAlchemy's alias of work_items, whose columns are found lazily: two threads doing that at once (the
# first claims after a server starts) could leave one statement half-adapted, `work_items` where
# `other_item` was meant, cached for the process's life; its claims then saw every candidate as "on
# another tracer's call" and answered "nobody waiting" with the queue full (found 2026-12-04: the
# load test's occasional runs of 204s). So they are built under one lock, and all of them by
# `prepare_statements` when the app is created, before a server's threads start.
_BUILD_LOCK = threading.RLock()


def _built_once(builder):
    cached = functools.cache(builder)

    @functools.wraps(builder)
    def build(*args):
        with _BUILD_LOCK:
            return cached(*args)

    build.cache_clear, build.cache_info = cached.cache_clear, cached.cache_info
    return build


def prepare_statements() -> None:
    """Build every cached statement of the queue now, in this thread (see _BUILD_LOCK)."""
    for dialect in ("postgresql", "sqlite"):
        for from_pool, fifo_order, excluding in itertools.product((False, True), repeat=3):
            _candidate_statement(from_pool, fifo_order, excluding, dialect)
        _people_held_statement(dialect)
        _companions_statement(dialect)
    for with_subject in (False, True):
        _lock_statement(with_subject)


@_built_once
def _other_item():
    """Another of the same table, for "is this person on someone else's claim". Built once (by
    `prepare_statements`, after the mappers are configured): an alias per statement costs more than the query."""
    return aliased(WorkItem, name="other_item")


# Priority bands, lowest first (docs/queue.md): callbacks; cases and household contacts; other contacts.
BAND_CALLBACK, BAND_PRIORITY, BAND_OTHER = 1, 2, 3


class ClaimConflict(DomainError):
    """The item is held by someone else, or is no longer in the queue."""


class WorkItemNotFound(DomainError):
    """No work item has this id."""


class NotClaimHolder(DomainError):
    """The caller does not hold the claim (never had it, or it was reassigned or taken after expiry)."""


@dataclass
class Claim:
    """What one claim hands a tracer: the item to call and others reachable on the same call."""

    item: WorkItem
    also_claimed: list[WorkItem] = field(default_factory=list)


@dataclass
class AttemptResult:
    attempt: CallAttempt
    item: WorkItem
    new_item: WorkItem | None = None  # the callback item, when one was arranged
    escalation: object | None = None
    raised: list[WorkItem] = field(default_factory=list)  # household members moved up the queue
    assigned_to: object | None = None  # language_barrier: who it went to


def lease() -> timedelta:
    return timedelta(minutes=current_app.config["TTS_CLAIM_LEASE_MINUTES"])


def compute_band(item: WorkItem, person: Person) -> int:
    """The queue band: callbacks first, then cases and household contacts, then other contacts;
    a vulnerable person, or one whose household member was just reached, is raised one band each."""
    if item.kind == ItemKind.CALLBACK:
        base = BAND_CALLBACK
    elif item.case is not None or (item.contact is not None and item.contact.relationship_ == "household"):
        base = BAND_PRIORITY
    else:
        base = BAND_OTHER
    raises = int(bool(person.is_vulnerable)) + int(bool(item.is_household_raised))
    return max(BAND_CALLBACK, base - raises)


def refresh_bands(person: Person) -> None:
    """Recompute the band of a person's queued items (after their vulnerability changes)."""
    for item in db.session.scalars(select(WorkItem).where(WorkItem.person_id == person.id,
                                                          WorkItem.status.in_(QUEUE_STATUSES))):
        item.band = compute_band(item, person)


def create_work_item(actor, *, kind: str, person: Person, case=None, contact=None, due_at: datetime | None = None,
                     assignee=None, assigned_until: datetime | None = None, origin: WorkItem | None = None) -> WorkItem:
    """Queue a call. Someone with no phone number is escalated at once: nobody can call them."""
    item = WorkItem(kind=kind, person=person, case=case, contact=contact, due_at=due_at or utcnow(),
                    status=ItemStatus.OPEN, assignee=assignee, assigned_until=assigned_until,
                    origin_item_id=getattr(origin, "id", None), band=BAND_OTHER)
    db.session.add(item)
    item.band = compute_band(item, person)
    db.session.flush()
    record_event(actor, "work_item.create", item, {"kind": kind, "person_id": person.id})
    if not person.phone:
        escalate_item(actor, item, EscalationReason.NO_PHONE)
    else:
        from tts.telephony.services import on_item_created

        on_item_created(actor, item)  # the introduction text, in this same transaction
    return item


def queue_initial_call(actor, *, case=None, contact=None) -> WorkItem:
    subject = case if case is not None else contact
    return create_work_item(actor, kind=ItemKind.INITIAL_CALL, person=subject.person, case=case, contact=contact)


# --- Claiming -------------------------------------------------------------------------------------------


def _claimable(now: datetime):
    """Items the queue may hand out now: in the queue, due, and not under someone's live lease."""
    return and_(WorkItem.status.in_(QUEUE_STATUSES), WorkItem.due_at <= now,
                or_(WorkItem.claimed_until.is_(None), WorkItem.claimed_until < now))


def _person_held_by_other(me_id: int, now: datetime):
    """True for a work item whose person is on a live claim of another tracer (any of their items)."""
    other = _other_item()
    return exists().where(other.person_id == WorkItem.person_id, other.status == ItemStatus.CLAIMED,
                          other.claimed_until >= now, other.claimed_by_id != me_id)


def _pool_filter(now: datetime):
    return or_(WorkItem.assignee_id.is_(None), WorkItem.assigned_until < now)


def _mine_filter(me_id: int, now: datetime):
    return and_(WorkItem.assignee_id == me_id, or_(WorkItem.assigned_until.is_(None), WorkItem.assigned_until >= now))


def fifo() -> bool:
    """TTS_QUEUE_POLICY=fifo: a plain first-come-first-served queue (no priority bands, no household calls,
    no household raise): the national call centre's way, kept as a baseline for the capacity planner."""
    return current_app.config.get("TTS_QUEUE_POLICY", "tts") == "fifo"


# The claim's statements are built once per queue policy, with the tracer and the time as bound parameters:
# building a statement of this size costs about as much as running it, and a claim runs several.
_NOW, _ME = bindparam("now"), bindparam("me_id")
log = logging.getLogger(__name__)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _in_list(column, name: str, dialect: str):
    """`column IN` the list bound as `name`. On PostgreSQL `= ANY(array)`: one statement text whatever the
    list's length, so psycopg converts it once and prepares it (an expanding IN is a new statement for
    each length: rendered, parsed and planned again; a phone number shared by a dozen people made that a
    quarter of a claim's time). SQLite has no arrays: an expanding IN there."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


def _not_in_list(column, name: str, dialect: str):
    if dialect == "postgresql":
        return column != all_(bindparam(name, type_=postgresql.ARRAY(Integer)))
    return column.not_in(bindparam(name, expanding=True))


@_built_once
def _candidate_statement(from_pool: bool, fifo_order: bool, excluding: bool, dialect: str):
    # One row, locked with its person. On PostgreSQL, SKIP LOCKED passes over rows another claim is
    # taking right now; the statement is SELECT ... LIMIT 1 FOR UPDATE (never id IN (subquery ...)).
    # On SQLite with_for_update is dropped, and BEGIN IMMEDIATE serialises claims instead.
    # The person's columns come in the same row (contains_eager): the claim reads them next.
    where = _pool_filter(_NOW) if from_pool else _mine_filter(_ME, _NOW)
    order = (WorkItem.due_at, WorkItem.id) if fifo_order else (WorkItem.band, WorkItem.due_at, WorkItem.id)
    stmt = (select(WorkItem).join(Person, Person.id == WorkItem.person_id).options(contains_eager(WorkItem.person))
            .where(_claimable(_NOW), where, ~_person_held_by_other(_ME, _NOW))
            .order_by(*order).limit(1)
            .with_for_update(skip_locked=True, of=[WorkItem, Person]))
    if excluding:
        stmt = stmt.where(_not_in_list(WorkItem.person_id, "excluded", dialect))
    return stmt


def _locked_candidate(from_pool: bool, me_id: int, now: datetime, exclude_people: set[int]) -> WorkItem | None:
    stmt = _candidate_statement(from_pool, fifo(), bool(exclude_people), _dialect())
    values = {"now": now, "me_id": me_id}
    if exclude_people:
        values["excluded"] = sorted(exclude_people)
    return db.session.scalars(stmt, values).first()


def _people_held(people: list[int], me_id: int, now: datetime) -> set[int]:
    """Which of these people are on a live claim of another tracer. Run after their rows are locked, in a
    new statement that sees every claim committed meanwhile."""
    return set(db.session.scalars(_people_held_statement(_dialect()), {"people": people, "me_id": me_id, "now": now}))


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
    return sorted(db.session.scalars(_companions_statement(_dialect()), {
        "now": now, "me_id": user.id, "item_id": item.id, "person_id": person.id,
        "household_id": person.household_id, "phone": person.phone}).all(),
        key=lambda w: (w.band, w.due_at, w.id))


@_built_once
def _people_held_statement(dialect: str):
    other = _other_item()
    return select(other.person_id).distinct().where(
        _in_list(other.person_id, "people", dialect), other.status == ItemStatus.CLAIMED,
        other.claimed_until >= _NOW, other.claimed_by_id != _ME)


@_built_once
def _companions_statement(dialect: str):
    # The people reachable on the item's call: the person, their household, anyone with their number
    # (a NULL household or phone matches nobody). On PostgreSQL = ANY(ARRAY(subquery)): an init plan the
    # database runs first, then the person_id index; SQLite plans IN (subquery) that way itself.
    related = aliased(Person, name="related_person")
    people = select(related.id).where(or_(related.id == bindparam("person_id"),
                                          related.household_id == bindparam("household_id"),
                                          related.phone == bindparam("phone")))
    if dialect == "postgresql":
        same_call = WorkItem.person_id == any_(func.array(people.scalar_subquery()))
    else:
        same_call = WorkItem.person_id.in_(people)
    # The person's columns come in the same row (contains_eager): the claim's answer names each companion.
    # Other tracers' claims are not looked at here: `_people_held` checks them after the locks, by the
    # person_id index. (A NOT EXISTS here was planned as a scan of every live claim for each row, which
    # under load cost three quarters of the statement's time.)
    return (select(WorkItem).join(Person, Person.id == WorkItem.person_id).options(contains_eager(WorkItem.person))
            .where(_claimable(_NOW), WorkItem.id != bindparam("item_id"), same_call,
                   or_(_pool_filter(_NOW), _mine_filter(_ME, _NOW)))
            .with_for_update(skip_locked=True, of=[WorkItem, Person]))


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


@_built_once
def _lock_statement(with_subject: bool):
    stmt = select(WorkItem).where(WorkItem.id == bindparam("item_id")).with_for_update(of=WorkItem)
    if with_subject:  # the outcome's texts and rules read the person and their case or contact next,
        # and the outcome takes the details of the tracer's masked call, if they made one (most outcomes:
        # none, and no statement to find that out)
        from tts.telephony.models import PhoneCall

        latest_call = (select(PhoneCall.id).where(PhoneCall.work_item_id == WorkItem.id,
                                                  PhoneCall.tracer_id == bindparam("tracer_id"),
                                                  PhoneCall.twilio_sid.is_not(None))
                       .order_by(PhoneCall.id.desc()).limit(1).scalar_subquery())
        stmt = stmt.add_columns(latest_call.label("tracer_call_id")).options(
            joinedload(WorkItem.person), joinedload(WorkItem.case), joinedload(WorkItem.contact))
    return stmt.execution_options(populate_existing=True)


def _lock_held(user, item: WorkItem | int, claim_token: str | None, now: datetime, *,
               with_subject: bool = False) -> tuple[WorkItem, int | None]:
    """The held item, locked, and (with_subject) the id of the tracer's latest masked call for it, if any."""
    # Locked and read afresh in one statement (populate_existing: the row as committed, not as this
    # session last saw it); only the item's row is locked (FOR UPDATE OF work_items). Given an id (the
    # API's outcome), this is the item's only read: WorkItemNotFound if there is none.
    item_id = item if isinstance(item, int) else item.id
    if with_subject:
        row = db.session.execute(_lock_statement(True), {"item_id": item_id, "tracer_id": user.id}).one_or_none()
        locked, call_id = row if row is not None else (None, None)
    else:
        locked, call_id = db.session.scalars(_lock_statement(False), {"item_id": item_id}).one_or_none(), None
    if locked is None:
        raise WorkItemNotFound(f"There is no work item {item_id}")
    if (locked.status != ItemStatus.CLAIMED or locked.claimed_by_id != user.id
            or (claim_token is not None and claim_token != locked.claim_token)):
        raise NotClaimHolder("You no longer hold this item: it was reassigned, or taken after your claim expired")
    return locked, call_id


def release_item(user, item: WorkItem, claim_token: str | None = None, now: datetime | None = None) -> WorkItem:
    """Give a claimed item back to the queue, untouched."""
    now = now or utcnow()
    locked, _ = _lock_held(user, item, claim_token, now)
    _clear_claim(locked)
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


def _clear_claim(item: WorkItem) -> None:
    item.claimed_by_id = None
    item.claimed_at = None
    item.claimed_until = None
    item.claim_token = None


# --- Outcomes -------------------------------------------------------------------------------------------


def record_attempt(user, item: WorkItem | int, *, outcome: str | None, notes: str | None = None,
                   callback_at: datetime | None = None, language: str | None = None,
                   claim_token: str | None = None, now: datetime | None = None) -> AttemptResult:
    """Record the outcome of a call the tracer made, then apply the retry and escalation rules."""
    now = now or utcnow()
    errors = ErrorCollector()
    _check_outcome(errors, outcome, callback_at, language, notes, now)
    errors.raise_if_any()
    return _apply_outcome(user, item, outcome=outcome, notes=notes, callback_at=callback_at, language=language,
                          claim_token=claim_token, now=now)


def record_call(user, held: list[tuple[WorkItem, str | None]], *, outcome: str | None, notes: str | None = None,
                callback_at: datetime | None = None, language: str | None = None,
                now: datetime | None = None) -> list[AttemptResult]:
    """One outcome for everyone on a call: the people sharing a number who were claimed together all get the
    same attempt ("no answer" on a household's phone is everyone's), with each person's own rules (retries,
    escalation, callback, texts) applied as if recorded one by one. `held` is (item, claim token) pairs;
    all or nothing: if any item is no longer held, NotClaimHolder and the caller rolls back."""
    now = now or utcnow()
    errors = ErrorCollector()
    if not held:
        errors.add("items", "Choose who was on the call")
    elif len({item.id for item, _ in held}) != len(held):
        errors.add("items", "List each person on the call once")
    _check_outcome(errors, outcome, callback_at, language, notes, now)
    errors.raise_if_any()
    # In id order, as every path that locks several items does.
    return [_apply_outcome(user, item, outcome=outcome, notes=notes, callback_at=callback_at, language=language,
                           claim_token=token, now=now)
            for item, token in sorted(held, key=lambda pair: pair[0].id)]


def _check_outcome(errors: ErrorCollector, outcome: str | None, callback_at: datetime | None,
                   language: str | None, notes: str | None, now: datetime) -> None:
    if outcome not in {o.value for o in Outcome}:
        errors.add("outcome", "Choose what happened on the call")
    if outcome == Outcome.CALLBACK_REQUESTED:
        if callback_at is None:
            errors.add("callback_at", "Enter the date and time they asked to be called back")
        elif callback_at <= now:
            errors.add("callback_at", "The callback time must be in the future")
    if outcome == Outcome.LANGUAGE_BARRIER and not (language or "").strip():
        errors.add("language", "Enter the language they speak")
    if notes and len(notes) > 5000:
        errors.add("notes", "Notes must be 5,000 characters or fewer")


def _apply_outcome(user, item: WorkItem | int, *, outcome: str, notes: str | None, callback_at: datetime | None,
                   language: str | None, claim_token: str | None, now: datetime) -> AttemptResult:
    item, call_id = _lock_held(user, item, claim_token, now, with_subject=True)

    attempt = CallAttempt(work_item=item, person_id=item.person_id, tracer_id=user.id, outcome=outcome,
                          is_failed=outcome in FAILED_OUTCOMES, notes=(notes or "").strip() or None,
                          callback_at=callback_at if outcome == Outcome.CALLBACK_REQUESTED else None,
                          language=(language or "").strip() or None, started_at=item.claimed_at)
    db.session.add(attempt)
    result = AttemptResult(attempt=attempt, item=item)
    _clear_claim(item)
    from tts.telephony import services as telephony

    # Nothing to write before this read (the attempt has no call yet): the attempt and the item's changes
    # are written together by the next flush, the item in one UPDATE.
    with db.session.no_autoflush:
        telephony.link_call_to_attempt(attempt, call_id)

    if outcome in FAILED_OUTCOMES:
        item.attempts += 1
        max_attempts = current_app.config["TTS_MAX_FAILED_ATTEMPTS"]
        deadline = item.created_at + timedelta(hours=current_app.config["TTS_ESCALATE_AFTER_HOURS"])
        if item.attempts >= max_attempts:
            result.escalation = escalate_item(user, item, EscalationReason.ATTEMPTS_EXHAUSTED,
                                              f"{item.attempts} calls without an answer")
        elif now >= deadline:
            result.escalation = escalate_item(user, item, EscalationReason.OVERDUE)
        else:
            item.status = ItemStatus.OPEN
            item.due_at = retry_at(now, item.attempts)
        telephony.on_call_failed(user, item)  # "we tried to call you": never counts as an attempt
    elif outcome == Outcome.WRONG_NUMBER:
        item.attempts += 1
        result.escalation = escalate_item(user, item, EscalationReason.WRONG_NUMBER)
    elif outcome == Outcome.LANGUAGE_BARRIER:
        result.assigned_to = _hand_to_speaker(user, item, attempt.language, now)
    else:
        _close(item, outcome, now)
        if outcome == Outcome.CALLBACK_REQUESTED:
            # The callback goes back to the tracer who arranged it for the rest of their shift.
            result.new_item = create_work_item(user, kind=ItemKind.CALLBACK, person=item.person, case=item.case,
                                               contact=item.contact, due_at=callback_at, assignee=user,
                                               assigned_until=calling_day_end(now), origin=item)
        if outcome == Outcome.REACHED:
            result.raised = raise_household(item.person)
            telephony.on_reached(user, item)
    if attempt.id is None:  # usually written already, by the texts' flush; a flush now would also write
        db.session.flush()  # their audit event before it is sealed (an INSERT and an UPDATE, not one INSERT)
    record_event(user, "call_attempt.create", attempt, {"work_item_id": item.id, "outcome": outcome,
                                                        "status": item.status})
    return result


def _close(item: WorkItem, outcome: str, now: datetime) -> None:
    item.status = ItemStatus.DONE
    item.outcome = outcome
    item.closed_at = now


def _hand_to_speaker(user, item: WorkItem, language: str | None, now: datetime):
    """Back in the queue for a tracer who speaks the language, if the team has one; else the pool."""
    from tts.auth.models import User

    item.status = ItemStatus.OPEN
    item.due_at = min(item.due_at, now)
    item.language = language
    if item.person.language is None:
        item.person.language = language
    speakers = [u for u in db.session.scalars(select(User).where(User.is_active.is_(True), User.id != user.id,
                                                                 User.role.in_(("tracer", "supervisor"))))
                if language and language.lower() in {lang.lower() for lang in u.language_list}]
    if not speakers:
        item.assignee_id = None
        return None
    load = dict(db.session.execute(select(WorkItem.assignee_id, func.count()).where(
        WorkItem.assignee_id.in_([s.id for s in speakers]), WorkItem.status.in_(QUEUE_STATUSES))
        .group_by(WorkItem.assignee_id)).all())
    chosen = min(speakers, key=lambda s: (load.get(s.id, 0), s.id))
    item.assignee_id = chosen.id
    item.assigned_until = None
    return chosen


def raise_household(person: Person) -> list[WorkItem]:
    """Household first: once one member is reached, the others' queued items move up a band."""
    if person.household_id is None or fifo():
        return []
    # SKIP LOCKED, in id order: two tracers reaching two members of one household at the same moment each
    # hold their own item and would otherwise wait for the other's (a deadlock, seen in the load test). An
    # item locked right now is being claimed or recorded by someone: it is about to be called anyway.
    stmt = (select(WorkItem).join(Person, Person.id == WorkItem.person_id)
            .where(Person.household_id == person.household_id, WorkItem.person_id != person.id,
                   WorkItem.status.in_(QUEUE_STATUSES), WorkItem.is_household_raised.is_(False))
            .order_by(WorkItem.id).with_for_update(skip_locked=True, of=WorkItem))
    raised = []
    for item in db.session.scalars(stmt):
        item.is_household_raised = True
        item.band = compute_band(item, item.person)
        raised.append(item)
    return raised


def escalate_item(actor, item: WorkItem, reason: str, detail: str | None = None):
    item.status = ItemStatus.ESCALATED
    item.closed_at = utcnow()
    _clear_claim(item)
    return open_escalation(actor, item, reason, detail)


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
