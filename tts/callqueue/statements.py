"""The queue's SQL statements, built once and shared by every thread of a process.

Each is built with the tracer, the time and the lists as bound parameters (NOW, ME, ...): building a
statement of this size costs about as much as running it, and a claim runs several. They are built under
one lock, all of them when the app is created (`prepare_statements`), before a server starts its threads:
SQLAlchemy's alias of work_items finds its columns lazily, and two threads building at once can cache a
half-adapted statement for the life of the process (docs/queue.md, "Incidents").

PostgreSQL and SQLite differ in two places only: lists are bound as one array on PostgreSQL (`in_list`),
and SQLite has no row locks (FOR UPDATE is dropped; BEGIN IMMEDIATE serialises writers instead).
"""
import functools
import itertools
import threading
from datetime import datetime

from sqlalchemy import Integer, all_, and_, any_, bindparam, exists, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased, contains_eager, joinedload

from tts.callqueue.models import QUEUE_STATUSES, ItemStatus, WorkItem
from tts.extensions import db
from tts.people.models import Person
from tts.telephony.models import PhoneCall

_BUILD_LOCK = threading.RLock()
NOW, ME = bindparam("now"), bindparam("me_id")


def built_once(builder):
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
            candidate_statement(from_pool, fifo_order, excluding, dialect)
        people_held_statement(dialect)
        companions_statement(dialect)
    for with_subject in (False, True):
        lock_statement(with_subject)


@built_once
def other_item():
    """Another of the same table, for "is this person on someone else's claim". Built once (by
    `prepare_statements`, after the mappers are configured): an alias per statement costs more than the query."""
    return aliased(WorkItem, name="other_item")


def claimable(now: datetime):
    """Items the queue may hand out now: in the queue, due, and not under someone's live lease."""
    return and_(WorkItem.status.in_(QUEUE_STATUSES), WorkItem.due_at <= now,
                or_(WorkItem.claimed_until.is_(None), WorkItem.claimed_until < now))


def person_held_by_other(me_id: int, now: datetime):
    """True for a work item whose person is on a live claim of another tracer (any of their items)."""
    other = other_item()
    return exists().where(other.person_id == WorkItem.person_id, other.status == ItemStatus.CLAIMED,
                          other.claimed_until >= now, other.claimed_by_id != me_id)


def pool_filter(now: datetime):
    return or_(WorkItem.assignee_id.is_(None), WorkItem.assigned_until < now)


def mine_filter(me_id: int, now: datetime):
    return and_(WorkItem.assignee_id == me_id, or_(WorkItem.assigned_until.is_(None), WorkItem.assigned_until >= now))


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def in_list(column, name: str, dialect: str):
    """`column IN` the list bound as `name`. On PostgreSQL `= ANY(array)`: one statement text whatever the
    list's length, so psycopg converts it once and prepares it (an expanding IN is a new statement for
    each length: rendered, parsed and planned again). SQLite has no arrays: an expanding IN there."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


def not_in_list(column, name: str, dialect: str):
    if dialect == "postgresql":
        return column != all_(bindparam(name, type_=postgresql.ARRAY(Integer)))
    return column.not_in(bindparam(name, expanding=True))


@built_once
def candidate_statement(from_pool: bool, fifo_order: bool, excluding: bool, dialect: str):
    # One row, locked with its person. On PostgreSQL, SKIP LOCKED passes over rows another claim is
    # taking right now; the statement is SELECT ... LIMIT 1 FOR UPDATE (never id IN (subquery ...)).
    # On SQLite with_for_update is dropped, and BEGIN IMMEDIATE serialises claims instead.
    # The person's columns come in the same row (contains_eager): the claim reads them next.
    where = pool_filter(NOW) if from_pool else mine_filter(ME, NOW)
    order = (WorkItem.due_at, WorkItem.id) if fifo_order else (WorkItem.band, WorkItem.due_at, WorkItem.id)
    stmt = (select(WorkItem).join(Person, Person.id == WorkItem.person_id).options(contains_eager(WorkItem.person))
            .where(claimable(NOW), where, ~person_held_by_other(ME, NOW))
            .order_by(*order).limit(1)
            .with_for_update(skip_locked=True, of=[WorkItem, Person]))
    if excluding:
        stmt = stmt.where(not_in_list(WorkItem.person_id, "excluded", dialect))
    return stmt


@built_once
def people_held_statement(dialect: str):
    other = other_item()
    return select(other.person_id).distinct().where(
        in_list(other.person_id, "people", dialect), other.status == ItemStatus.CLAIMED,
        other.claimed_until >= NOW, other.claimed_by_id != ME)


@built_once
def companions_statement(dialect: str):
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
    # Other tracers' claims are not looked at here: `people_held_statement` checks them after the locks, by
    # the person_id index (a NOT EXISTS here is planned as a scan of every live claim for each row).
    return (select(WorkItem).join(Person, Person.id == WorkItem.person_id).options(contains_eager(WorkItem.person))
            .where(claimable(NOW), WorkItem.id != bindparam("item_id"), same_call,
                   or_(pool_filter(NOW), mine_filter(ME, NOW)))
            .with_for_update(skip_locked=True, of=[WorkItem, Person]))


@built_once
def lock_statement(with_subject: bool):
    stmt = select(WorkItem).where(WorkItem.id == bindparam("item_id")).with_for_update(of=WorkItem)
    if with_subject:  # the outcome's texts and rules read the person and their case or contact next,
        # and the outcome takes the details of the tracer's masked call, if they made one (most outcomes:
        # none, and no statement to find that out)
        latest_call = (select(PhoneCall.id).where(PhoneCall.work_item_id == WorkItem.id,
                                                  PhoneCall.tracer_id == bindparam("tracer_id"),
                                                  PhoneCall.twilio_sid.is_not(None))
                       .order_by(PhoneCall.id.desc()).limit(1).scalar_subquery())
        stmt = stmt.add_columns(latest_call.label("tracer_call_id")).options(
            joinedload(WorkItem.person), joinedload(WorkItem.case), joinedload(WorkItem.contact))
    return stmt.execution_options(populate_existing=True)
