"""Dashboard figures, tracer activity, shifts and reassignment."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Interval, Select, and_, func, literal, or_, select
from sqlalchemy.orm import joinedload

from tts.input_guard import INT32_MAX, bounded_int
from tts.audit.models import AuditEvent
from tts.audit.services import record_event
from tts.auth.models import User
from tts.callqueue.models import QUEUE_STATUSES, CallAttempt, ItemStatus, WorkItem
from tts.cases.models import Case
from tts.clock import london_midnight, to_london, utcnow
from tts.errors import DomainError, ErrorCollector
from tts.extensions import db
from tts.people.models import Person
from tts.supervision.models import WorkNotice

STAFF_WHO_CALL = ("tracer", "supervisor")


def today_start(now: datetime) -> datetime:
    return london_midnight(to_london(now).date())


def set_shift(user: User, on_shift: bool, now: datetime | None = None) -> User:
    if user.is_on_shift != on_shift:
        user.is_on_shift = on_shift
        user.shift_changed_at = now or utcnow()
        record_event(user, "user.shift_on" if on_shift else "user.shift_off", user)
    return user


# --- The queue, filtered (drill-down and reassignment) ---------------------------------------------------


@dataclass
class QueueFilter:
    tracer_id: int | None = None  # assigned to, or holding a claim on
    band: int | None = None
    kind: str | None = None
    district: str | None = None  # postcode district, e.g. S10
    older_than_hours: float | None = None
    waiting_only: bool = False  # due now and not held
    overdue_only: bool = False
    unassigned_only: bool = False


def waiting_clause(now: datetime):
    return and_(WorkItem.status.in_(QUEUE_STATUSES), WorkItem.due_at <= now,
                or_(WorkItem.claimed_until.is_(None), WorkItem.claimed_until < now))


def overdue_cutoff(now: datetime) -> datetime:
    return now - timedelta(minutes=current_app.config["TTS_OVERDUE_MINUTES"])


def queue_items(f: QueueFilter, now: datetime | None = None) -> Select:
    now = now or utcnow()
    stmt = (select(WorkItem).options(joinedload(WorkItem.person), joinedload(WorkItem.claimed_by),
                                     joinedload(WorkItem.assignee))
            .where(WorkItem.status.in_(QUEUE_STATUSES)).order_by(WorkItem.band, WorkItem.due_at, WorkItem.id))
    if f.tracer_id:
        stmt = stmt.where(or_(WorkItem.assignee_id == f.tracer_id,
                              and_(WorkItem.claimed_by_id == f.tracer_id, WorkItem.claimed_until >= now)))
    if f.band:
        stmt = stmt.where(WorkItem.band == f.band)
    if f.kind:
        stmt = stmt.where(WorkItem.kind == f.kind)
    if f.district:  # a join only when it filters: counting the whole queue then needs no people rows
        stmt = stmt.where(WorkItem.person_id.in_(
            select(Person.id).where(Person.postcode.startswith(f.district.strip().upper() + " "))))
    if f.older_than_hours:
        stmt = stmt.where(WorkItem.created_at <= now - timedelta(hours=f.older_than_hours))
    if f.waiting_only or f.overdue_only:
        stmt = stmt.where(waiting_clause(now))
    if f.overdue_only:
        stmt = stmt.where(WorkItem.due_at <= overdue_cutoff(now))
    if f.unassigned_only:
        stmt = stmt.where(WorkItem.assignee_id.is_(None))
    return stmt


def reassign_items(actor: User, item_ids: list[int], assignee: User | None,
                   now: datetime | None = None) -> tuple[list[WorkItem], list[int]]:
    """Assign items to a tracer, or (assignee None) return them to the shared pool.

    A claimed item loses its claim: its tracer's next write fails cleanly (their token is gone).
    Items no longer in the queue (done, escalated) are skipped and reported back.
    """
    now = now or utcnow()
    errors = ErrorCollector()
    if not item_ids:
        errors.add("work_item_ids", "Select at least one item")
    if assignee is not None and (not assignee.is_active or assignee.role not in STAFF_WHO_CALL):
        errors.add("assignee_id", "Choose an active tracer or supervisor")
    errors.raise_if_any()
    # Lock in id order so two bulk reassignments cannot deadlock each other.
    items = db.session.scalars(select(WorkItem).where(WorkItem.id.in_(item_ids)).order_by(WorkItem.id)
                               .with_for_update()).all()
    found = {i.id for i in items}
    skipped = [i for i in item_ids if i not in found]
    changed = []
    for item in items:
        db.session.refresh(item)
        if item.status not in QUEUE_STATUSES:
            skipped.append(item.id)
            continue
        holder = item.claimed_by_id if item.claimed_until is not None and item.claimed_until >= now else None
        previous = {item.assignee_id, holder} - {None}
        new_id = assignee.id if assignee else None
        if item.status == ItemStatus.CLAIMED:
            item.status = ItemStatus.OPEN
            item.claimed_by_id = item.claimed_at = item.claimed_until = item.claim_token = None
        item.assignee_id = new_id
        item.assigned_until = None
        for user_id in previous - {new_id}:
            db.session.add(WorkNotice(user_id=user_id, work_item_id=item.id, kind="lost", actor_id=actor.id))
        if new_id is not None and new_id not in previous:
            db.session.add(WorkNotice(user_id=new_id, work_item_id=item.id, kind="gained", actor_id=actor.id))
        record_event(actor, "work_item.reassign", item, {"from": sorted(previous), "to": new_id,
                                                         "ended_claim": holder})
        changed.append(item)
    db.session.flush()
    return changed, sorted(set(skipped))


def notices_for(user_id: int, now: datetime):
    return (select(WorkNotice).options(joinedload(WorkNotice.actor), joinedload(WorkNotice.work_item)
                                       .joinedload(WorkItem.person))
            .where(WorkNotice.user_id == user_id, WorkNotice.created_at >= today_start(now))
            .order_by(WorkNotice.created_at.desc()))


# --- Dashboard figures -----------------------------------------------------------------------------------


def queue_depth(now: datetime) -> dict[int, int]:
    rows = db.session.execute(select(WorkItem.band, func.count()).where(waiting_clause(now))
                              .group_by(WorkItem.band)).all()
    return {band: count for band, count in rows}


def oldest_waiting(now: datetime) -> WorkItem | None:
    return db.session.scalars(select(WorkItem).where(waiting_clause(now)).order_by(WorkItem.due_at, WorkItem.id)
                              .limit(1)).first()


def overdue_count(now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(WorkItem).where(
        waiting_clause(now), WorkItem.due_at <= overdue_cutoff(now))) or 0


@dataclass
class Sla:
    new_cases: int
    within_1h: int
    within_24h: int

    def pct(self, n: int) -> float | None:
        return round(100 * n / self.new_cases, 1) if self.new_cases else None


def sla_today(now: datetime) -> Sla:
    """Of the cases created today, how many had their first call within 1 hour and within 24 hours.

    Counted in the database, looking only at today's cases (an index range) and their own attempts: one
    row comes back, not one per case (55,000 a day at national peak, read every time the figures expire)."""
    start = today_start(now)
    today_cases = select(Case.id, Case.created_at).where(Case.created_at >= start).subquery()
    first_call = (select(today_cases.c.created_at.label("created_at"),
                         func.min(CallAttempt.created_at).label("first_at"))
                  .select_from(today_cases)
                  .outerjoin(WorkItem, WorkItem.case_id == today_cases.c.id)
                  .outerjoin(CallAttempt, CallAttempt.work_item_id == WorkItem.id)
                  .group_by(today_cases.c.id, today_cases.c.created_at).subquery())
    one_hour = _first_call_within(first_call.c.created_at, first_call.c.first_at, 1)
    one_day = _first_call_within(first_call.c.created_at, first_call.c.first_at, 24)
    total, within_1h, within_24h = db.session.execute(select(
        func.count(), func.count().filter(one_hour), func.count().filter(one_day)).select_from(first_call)).one()
    return Sla(total, within_1h or 0, within_24h or 0)


def _first_call_within(created_at, first_at, hours: int):
    """first_at is at most `hours` after created_at (never true when there was no call): an interval on
    PostgreSQL; on SQLite, both as Julian days, the limit by the same date function, so a call exactly on
    the hour compares equal."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.julianday(first_at) <= func.julianday(created_at, f"+{int(hours)} hours")
    return first_at <= created_at + literal(timedelta(hours=hours), Interval())


def _aware(moment: datetime) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back naive UTC here.
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class TracerActivity:
    user: User
    claimed: int
    calls: int
    reached: int
    last_call_at: datetime | None
    minutes_since_last_call: int | None
    holding: int
    is_idle: bool


def activity_counts(now: datetime) -> tuple[dict, dict]:
    """Today's calls (count, reached, last) and claims per tracer: plain data, safe to cache briefly."""
    start = today_start(now)
    calls = {uid: (n, int(reached or 0), last) for uid, n, reached, last in db.session.execute(
        select(CallAttempt.tracer_id, func.count(), func.sum(func.cast(CallAttempt.outcome == "reached", db.Integer)),
               func.max(CallAttempt.created_at))
        .where(CallAttempt.created_at >= start).group_by(CallAttempt.tracer_id))}
    claims = dict(db.session.execute(select(AuditEvent.actor_id, func.count()).where(
        AuditEvent.action == "work_item.claim", AuditEvent.at >= start).group_by(AuditEvent.actor_id)).all())
    return calls, claims


def tracer_activity(now: datetime, counts: tuple[dict, dict] | None = None) -> list[TracerActivity]:
    start = today_start(now)
    staff = db.session.scalars(select(User).where(User.is_active.is_(True), User.role.in_(STAFF_WHO_CALL))
                               .order_by(User.is_on_shift.desc(), User.name)).all()
    calls, claims = counts if counts is not None else activity_counts(now)
    holding = dict(db.session.execute(select(WorkItem.claimed_by_id, func.count()).where(
        WorkItem.status == ItemStatus.CLAIMED, WorkItem.claimed_until >= now).group_by(WorkItem.claimed_by_id)).all())
    # The longest-waiting item reads one entry of ix_work_items_waiting_due (an EXISTS was planned as a
    # scan of the table from its start, through every finished item: 24 ms under load).
    work_waiting = oldest_waiting(now) is not None
    idle_after = timedelta(minutes=current_app.config["TTS_IDLE_MINUTES"])
    out = []
    for user in staff:
        n, reached, last = calls.get(user.id, (0, 0, None))
        last = _aware(last) if last is not None else None
        # Idle: on shift, work waiting, and no call for the threshold (counted from the shift's start
        # if they have made none since).
        since = max(t for t in (last, user.shift_changed_at, start) if t is not None)
        is_idle = bool(user.is_on_shift and work_waiting and now - since >= idle_after)
        out.append(TracerActivity(user, claims.get(user.id, 0), n, int(reached or 0), last,
                                  int((now - last).total_seconds() // 60) if last else None,
                                  holding.get(user.id, 0), is_idle))
    return out


def staff_who_call() -> list[User]:
    return list(db.session.scalars(select(User).where(User.is_active.is_(True), User.role.in_(STAFF_WHO_CALL))
                                   .order_by(User.name)))


def load_assignee(assignee_id) -> User | None:
    if assignee_id in (None, "", "pool"):
        return None
    user_id = assignee_id if isinstance(assignee_id, int) and not isinstance(assignee_id, bool) else \
        bounded_int(str(assignee_id), 1)
    user = db.session.get(User, user_id) if user_id is not None and 1 <= user_id <= INT32_MAX else None
    if user is None:
        raise DomainError("No such member of staff")
    return user


# --- One tracer's day (the tracer page) ------------------------------------------------------------------


@dataclass
class TracerDay:
    user: User
    calls: list  # today's CallAttempts, newest first
    reached: int
    held: list  # WorkItems they hold a live claim on
    assigned_waiting: int  # items assigned to them, due now or sooner
    shift_spells: list[tuple[datetime, datetime | None]]  # today's on-shift spells (end None: still on)
    on_shift_minutes: int
    call_minutes: int  # time spent on calls today (recorded durations, or from dialling to the outcome)
    idle_minutes: int  # on shift, with no call for TTS_IDLE_MINUTES or more, counted in those gaps
    week: list[tuple]  # (date, calls, reached) for the last 7 days, oldest first

    @property
    def reach_share(self) -> float | None:
        return self.reached / len(self.calls) if self.calls else None


def shift_spells(user: User, start: datetime, now: datetime) -> list[tuple[datetime, datetime | None]]:
    """Today's on-shift spells, from the audit log's shift changes (and the state the day began in)."""
    changes = db.session.execute(select(AuditEvent.action, AuditEvent.at).where(
        AuditEvent.actor_id == user.id, AuditEvent.action.in_(("user.shift_on", "user.shift_off")),
        AuditEvent.at >= start).order_by(AuditEvent.at, AuditEvent.id)).all()
    on_at = None
    if changes:
        on_at = start if changes[0].action == "user.shift_off" else None
    elif user.is_on_shift:
        on_at = start
    spells = []
    for action, at in changes:
        at = _aware(at)
        if action == "user.shift_on" and on_at is None:
            on_at = at
        elif action == "user.shift_off" and on_at is not None:
            spells.append((on_at, at))
            on_at = None
    if on_at is not None:
        spells.append((on_at, None))
    return spells


def _call_spans(calls: list, now: datetime) -> list[tuple[datetime, datetime]]:
    spans = []
    for attempt in calls:
        end = _aware(attempt.created_at)
        begin = end - timedelta(seconds=attempt.duration_seconds) if attempt.duration_seconds else (
            _aware(attempt.started_at) if attempt.started_at else end)
        spans.append((min(begin, end), end))
    return sorted(spans)


def tracer_day(user: User, now: datetime | None = None) -> TracerDay:
    """What a supervisor sees on a tracer's page: today's calls and reach, what they hold, their shift, how
    long they were on calls and how long idle while on shift."""
    now = now or utcnow()
    start = today_start(now)
    calls = db.session.scalars(select(CallAttempt).where(CallAttempt.tracer_id == user.id,
                                                         CallAttempt.created_at >= start)
                               .options(joinedload(CallAttempt.person), joinedload(CallAttempt.work_item))
                               .order_by(CallAttempt.created_at.desc(), CallAttempt.id.desc())).all()
    held = db.session.scalars(select(WorkItem).where(
        WorkItem.status == ItemStatus.CLAIMED, WorkItem.claimed_by_id == user.id, WorkItem.claimed_until >= now)
        .options(joinedload(WorkItem.person)).order_by(WorkItem.band, WorkItem.due_at)).all()
    assigned = db.session.scalar(select(func.count()).select_from(WorkItem).where(
        WorkItem.assignee_id == user.id, WorkItem.status.in_(QUEUE_STATUSES), WorkItem.due_at <= now)) or 0
    spells = shift_spells(user, start, now)
    on_minutes = sum(((end or now) - begin).total_seconds() for begin, end in spells) / 60
    spans = _call_spans(calls, now)
    call_minutes = sum((end - begin).total_seconds() for begin, end in spans) / 60
    idle_after = timedelta(minutes=current_app.config["TTS_IDLE_MINUTES"])
    idle = timedelta()
    for begin, end in spells:
        end = end or now
        cursor = begin
        for s_begin, s_end in spans:
            if s_end <= begin or s_begin >= end:
                continue
            if s_begin - cursor >= idle_after:
                idle += s_begin - cursor
            cursor = max(cursor, s_end)
        if end - cursor >= idle_after:
            idle += end - cursor
    first_day = to_london(now).date() - timedelta(days=6)
    week_rows = db.session.execute(select(CallAttempt.created_at, CallAttempt.outcome).where(
        CallAttempt.tracer_id == user.id, CallAttempt.created_at >= london_midnight(first_day))).all()
    per_day = {first_day + timedelta(days=n): [0, 0] for n in range(7)}
    for at, outcome in week_rows:
        day = to_london(_aware(at)).date()
        if day in per_day:
            per_day[day][0] += 1
            per_day[day][1] += outcome == "reached"
    return TracerDay(user=user, calls=calls, reached=sum(1 for c in calls if c.outcome == "reached"), held=held,
                     assigned_waiting=assigned, shift_spells=spells, on_shift_minutes=round(on_minutes),
                     call_minutes=round(call_minutes), idle_minutes=round(idle.total_seconds() / 60),
                     week=[(day, n, r) for day, (n, r) in per_day.items()])
