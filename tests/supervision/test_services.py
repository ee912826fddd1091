"""Dashboard figures from a known set of items and calls (controlled clock), and reassignment."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tts.audit.models import AuditEvent
from tts.callqueue.models import WorkItem
from tts.callqueue.errors import NotClaimHolder
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_item, claim_next
from tts.cases.services import add_contact, create_case
from tts.clock import today, utcnow
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.supervision.models import WorkNotice
from tts.supervision.services import (
    QueueFilter,
    oldest_waiting,
    overdue_count,
    queue_depth,
    queue_items,
    reassign_items,
    set_shift,
    sla_today,
    tracer_activity,
)

M, H = timedelta(minutes=1), timedelta(hours=1)
NINE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def env(app):
    import time_machine

    with time_machine.travel(NINE, tick=False) as clock, app.app_context():
        yield clock


def item_of(subject, column="case_id"):
    return db.session.scalars(select(WorkItem).where(getattr(WorkItem, column) == subject.id)).one()


def test_first_call_figures_count_to_the_second_in_the_database(env):
    """sla_today counts in SQL: a first call exactly on the hour is within it, a second later is not; a
    case's later calls do not count; a case never called is new but not within; yesterday's case is out."""
    tracer = UserFactory(role="tracer")
    env.move_to(NINE - 12 * H)  # 21:00 the day before
    create_case(None, person_data(9, address="9 Old St"), test_date=today(), symptom_onset_date=None)
    env.move_to(NINE)
    on_the_hour = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    a_second_late = create_case(None, person_data(2, address="2 B St"), test_date=today(), symptom_onset_date=None)
    env.move_to(NINE + 10 * M)
    never_called = create_case(None, person_data(3, address="3 C St"), test_date=today(), symptom_onset_date=None)
    assert never_called is not None
    env.move_to(NINE + H)
    claim_item(tracer, item_of(on_the_hour))
    record_attempt(tracer, item_of(on_the_hour), outcome="no_answer")
    env.move_to(NINE + H + timedelta(seconds=1))
    claim_item(tracer, item_of(a_second_late))
    record_attempt(tracer, item_of(a_second_late), outcome="no_answer")
    env.move_to(NINE + 4 * H)  # the retry: a later call does not move the first
    claim_item(tracer, item_of(on_the_hour))
    record_attempt(tracer, item_of(on_the_hour), outcome="reached")

    sla = sla_today(utcnow())
    assert (sla.new_cases, sla.within_1h, sla.within_24h) == (3, 1, 2)


def test_dashboard_figures(env):
    a, b, c = UserFactory(role="tracer"), UserFactory(role="tracer"), UserFactory(role="tracer")
    busy, idle = a, b
    set_shift(busy, True)
    set_shift(idle, True)
    case1 = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)      # 09:00
    env.shift(10 * M)
    case2 = create_case(None, person_data(2, address="2 B St"), test_date=today(), symptom_onset_date=None)
    close = add_contact(None, case2, person_data(3, address="3 C St", postcode="S10 2TN"), relationship="close",
                        last_exposure_date=today())
    env.shift(20 * M)  # 09:30: case1 called and reached within the hour
    claim_item(busy, item_of(case1))
    record_attempt(busy, item_of(case1), outcome="reached")
    env.move_to(NINE + 2 * H)  # 11:00
    claim_item(busy, item_of(case2))
    record_attempt(busy, item_of(case2), outcome="no_answer")  # case2 first called after 1h50m
    env.move_to(NINE + 2 * H + 20 * M)  # 11:20
    now = utcnow()

    assert queue_depth(now) == {3: 1}  # case2 is rescheduled to 13:00; the close contact waits
    assert oldest_waiting(now).id == item_of(close, "contact_id").id
    assert overdue_count(now) == 1  # waiting since 09:10, over an hour
    sla = sla_today(now)
    assert (sla.new_cases, sla.within_1h, sla.within_24h) == (2, 1, 2)
    assert sla.pct(sla.within_1h) == 50.0

    activity = {x.user.id: x for x in tracer_activity(now)}
    assert (activity[busy.id].claimed, activity[busy.id].calls, activity[busy.id].reached) == (2, 2, 1)
    assert activity[busy.id].minutes_since_last_call == 20 and not activity[busy.id].is_idle
    assert activity[idle.id].calls == 0 and activity[idle.id].is_idle  # on shift since 09:00, work waiting
    assert not activity[c.id].is_idle  # off shift
    env.shift(15 * M)  # 11:35: busy's last call was 35 minutes ago
    assert {x.user.id: x for x in tracer_activity(utcnow())}[busy.id].is_idle


def test_nobody_is_idle_when_no_work_is_waiting(env):
    tracer = UserFactory(role="tracer")
    set_shift(tracer, True)
    env.shift(2 * H)
    assert not tracer_activity(utcnow())[0].is_idle


def test_idle_counts_from_the_start_of_the_shift(env):
    tracer = UserFactory(role="tracer")
    create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    env.shift(2 * H)
    set_shift(tracer, True)
    env.shift(29 * M)
    assert not tracer_activity(utcnow())[0].is_idle
    env.shift(1 * M)
    assert tracer_activity(utcnow())[0].is_idle


def test_queue_filters(env):
    case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    add_contact(None, case, person_data(2, address="9 Far", postcode="S10 2TN"), relationship="close",
                last_exposure_date=today())
    ids = lambda f: [i.id for i in db.session.scalars(queue_items(f))]  # noqa: E731
    assert len(ids(QueueFilter())) == 2
    assert ids(QueueFilter(band=2)) == [item_of(case).id]
    assert len(ids(QueueFilter(district="s10"))) == 1 and ids(QueueFilter(district="S1")) == [item_of(case).id]
    assert ids(QueueFilter(older_than_hours=1)) == []
    env.shift(2 * H)
    assert len(ids(QueueFilter(older_than_hours=1, overdue_only=True))) == 2


def test_reassigning_a_claimed_item_ends_the_claim_and_notifies_both(env):
    supervisor, holder, other = UserFactory(role="supervisor"), UserFactory(role="tracer"), UserFactory(role="tracer")
    case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    item = item_of(case)
    claim = claim_next(holder)
    changed, skipped = reassign_items(supervisor, [item.id], other)
    assert [i.id for i in changed] == [item.id] and skipped == []
    assert (item.status, item.claimed_by_id, item.claim_token, item.assignee_id) == ("open", None, None, other.id)
    with pytest.raises(NotClaimHolder):
        record_attempt(holder, item, outcome="reached", claim_token=claim.item.claim_token or "x")
    notices = db.session.scalars(select(WorkNotice).order_by(WorkNotice.id)).all()
    assert [(n.user_id, n.kind) for n in notices] == [(holder.id, "lost"), (other.id, "gained")]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "work_item.reassign")).one()
    assert event.details == {"from": [holder.id], "to": other.id, "ended_claim": holder.id}
    assert claim_next(holder) is None and claim_next(other).item.id == item.id


def test_return_to_pool_and_skip_closed_items(env):
    supervisor, tracer = UserFactory(role="supervisor"), UserFactory(role="tracer")
    open_case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    done_case = create_case(None, person_data(2, address="2 B St"), test_date=today(), symptom_onset_date=None)
    item_of(open_case).assignee_id = tracer.id
    claim_item(tracer, item_of(done_case))
    record_attempt(tracer, item_of(done_case), outcome="reached")
    changed, skipped = reassign_items(supervisor, [item_of(open_case).id, item_of(done_case).id, 999999], None)
    assert [i.id for i in changed] == [item_of(open_case).id] and skipped == sorted([item_of(done_case).id, 999999])
    assert item_of(open_case).assignee_id is None


def test_reassign_validation(env):
    supervisor, reporting = UserFactory(role="supervisor"), UserFactory(role="reporting")
    with pytest.raises(ValidationFailed) as exc:
        reassign_items(supervisor, [], reporting)
    assert set(exc.value.errors) == {"work_item_ids", "assignee_id"}
