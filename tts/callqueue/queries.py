"""Read-only queries for the queue pages: what a tracer holds, has due, and did today."""
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from tts.callqueue.models import QUEUE_STATUSES, CallAttempt, ItemKind, WorkItem
from tts.callqueue.statements import mine_filter, pool_filter
from tts.clock import london_midnight, to_london
from tts.people.models import Person


def my_callbacks_today(user_id: int, now: datetime):
    end_of_day = london_midnight(to_london(now).date() + timedelta(days=1))
    return (select(WorkItem).options(joinedload(WorkItem.person))
            .where(WorkItem.assignee_id == user_id, WorkItem.kind == ItemKind.CALLBACK,
                   WorkItem.status.in_(QUEUE_STATUSES), WorkItem.due_at < end_of_day)
            .order_by(WorkItem.due_at))


def my_assigned_items(user_id: int):
    return (select(WorkItem).options(joinedload(WorkItem.person))
            .where(WorkItem.assignee_id == user_id, WorkItem.status.in_(QUEUE_STATUSES))
            .order_by(WorkItem.band, WorkItem.due_at))


def my_attempts_today(user_id: int, now: datetime):
    start = london_midnight(to_london(now).date())
    return (select(CallAttempt).options(joinedload(CallAttempt.person))
            .where(CallAttempt.tracer_id == user_id, CallAttempt.created_at >= start)
            .order_by(CallAttempt.created_at.desc()))


def waiting_count(now: datetime, for_user_id: int | None = None):
    """Calls due and not being made. `for_user_id`: only those this tracer could take (the shared pool and
    their own), as "Call next person" counts them, so the two never disagree."""
    stmt = select(func.count()).select_from(WorkItem).where(
        WorkItem.status.in_(QUEUE_STATUSES), WorkItem.due_at <= now,
        (WorkItem.claimed_until.is_(None)) | (WorkItem.claimed_until < now))
    if for_user_id is not None:
        stmt = stmt.where(pool_filter(now) | mine_filter(for_user_id, now))
    return stmt


def household_items(person: Person):
    """Queued items of the person's household members and of anyone sharing their phone number."""
    same = []
    if person.household_id is not None:
        same.append(Person.household_id == person.household_id)
    if person.phone:
        same.append(Person.phone == person.phone)
    if not same:
        return None
    from sqlalchemy import or_

    return (select(WorkItem).join(Person, Person.id == WorkItem.person_id)
            .where(or_(*same), WorkItem.person_id != person.id, WorkItem.status.in_(QUEUE_STATUSES))
            .order_by(WorkItem.band, WorkItem.due_at))


def person_items(person_id: int):
    return select(WorkItem).where(WorkItem.person_id == person_id).order_by(WorkItem.created_at.desc())
