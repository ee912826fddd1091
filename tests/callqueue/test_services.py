"""The queue rules: work appears by itself, claims are leases, outcomes retry, escalate or close."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tts.callqueue.models import ItemKind, ItemStatus, WorkItem
from tts.callqueue.errors import ClaimConflict, NotClaimHolder
from tts.callqueue.outcomes import record_attempt, record_call
from tts.callqueue.services import claim_item, claim_next, escalate_overdue, extend_claims, release_item
from tts.cases.services import add_contact, create_case
from tts.clock import today, utcnow
from tts.errors import ValidationFailed
from tts.escalation.models import Escalation
from tts.extensions import db
from tts.people.services import update_person

H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture
def env(app, daytime):
    with app.app_context():
        yield daytime


def tracer(**kw):
    return UserFactory(role="tracer", **kw)


def item_for(subject) -> WorkItem:
    column = WorkItem.case_id if hasattr(subject, "reference") else WorkItem.contact_id
    return db.session.scalars(select(WorkItem).where(column == subject.id)).one()


def new_case(n=1, **kw):
    return create_case(None, person_data(n, **kw), test_date=today(), symptom_onset_date=None)


def close_contact(case, n, **kw):
    return add_contact(None, case, person_data(n, address=None, postcode=None, **kw), relationship="close",
                       last_exposure_date=today())


def test_new_case_and_contacts_get_initial_calls_in_the_right_band(env):
    case = new_case(1)
    household = add_contact(None, case, person_data(2, address=None, postcode=None), relationship="household",
                            last_exposure_date=today())
    close = close_contact(case, 3)
    assert [(item_for(s).kind, item_for(s).band) for s in (case, household, close)] == [
        ("initial_call", 2), ("initial_call", 2), ("initial_call", 3)]
    assert item_for(case).due_at == utcnow() and item_for(case).status == "open"


def test_vulnerable_people_are_raised_one_band(env):
    case = new_case(1)
    contact = close_contact(case, 3)
    update_person(None, contact.person, person_data(3, address=None, postcode=None), is_vulnerable=True)
    assert item_for(contact).band == 2


def test_no_phone_escalates_at_once(env):
    case = new_case(1)
    contact = close_contact(case, 4, phone=None)
    item = item_for(contact)
    assert item.status == "escalated"
    escalation = db.session.scalars(select(Escalation).where(Escalation.work_item_id == item.id)).one()
    assert escalation.reason == "no_phone" and escalation.status == "open"


def test_next_hands_out_the_highest_priority_due_item_as_a_lease(env, app):
    me = tracer()
    case = new_case(1)
    close = close_contact(case, 3)
    env.shift(5 * M)
    claim = claim_next(me)
    assert claim.item.id == item_for(case).id  # band 2 before band 3
    assert claim.item.claimed_until == utcnow() + 20 * M and claim.item.claim_token
    assert claim_next(me).item.id == item_for(close).id  # each call hands out a different item
    assert claim_next(me) is None


def test_nothing_is_handed_out_outside_calling_hours(env):
    new_case(1)
    env.move_to(datetime(2026, 11, 23, 20, 30, tzinfo=UTC))
    assert claim_next(tracer()) is None


def test_future_items_wait_until_due(env):
    me = tracer()
    item = item_for(new_case(1))
    item.due_at = utcnow() + H
    assert claim_next(me) is None
    env.shift(H)
    assert claim_next(me).item.id == item.id


def test_an_expired_lease_returns_the_item_and_the_old_holder_cannot_write(env):
    first, second = tracer(), tracer()
    item = item_for(new_case(1))
    old = claim_next(first)
    old_token = old.item.claim_token
    env.shift(19 * M)
    assert claim_next(second) is None  # still first's
    env.shift(2 * M)
    taken = claim_next(second)
    assert taken.item.id == item.id and taken.item.claim_token != old_token
    with pytest.raises(NotClaimHolder):
        record_attempt(first, item, outcome="reached", claim_token=old_token)
    with pytest.raises(NotClaimHolder):
        record_attempt(first, item, outcome="reached")
    record_attempt(second, item, outcome="reached", claim_token=taken.item.claim_token)


def test_heartbeat_extends_the_lease(env):
    me, other = tracer(), tracer()
    item = item_for(new_case(1))
    claim_next(me)
    env.shift(15 * M)
    assert extend_claims(me) == 1
    env.shift(15 * M)
    assert claim_next(other) is None
    assert item.claimed_until == utcnow() + 5 * M


def test_release_gives_it_back(env):
    me, other = tracer(), tracer()
    item = item_for(new_case(1))
    claim_next(me)
    with pytest.raises(NotClaimHolder):
        release_item(other, item)
    release_item(me, item)
    assert item.status == "open" and claim_next(other).item.id == item.id


def test_claim_a_specific_item_unless_someone_else_holds_it(env):
    me, other = tracer(), tracer()
    item = item_for(new_case(1))
    claim_item(me, item)
    with pytest.raises(ClaimConflict, match="being called by another tracer"):
        claim_item(other, item)
    record_attempt(me, item, outcome="reached")
    with pytest.raises(ClaimConflict, match="no longer in the queue"):
        claim_item(other, item)


def test_failed_calls_retry_at_two_hours_then_four_then_escalate(env):
    me = tracer()
    item = item_for(new_case(1))
    claim_next(me)
    result = record_attempt(me, item, outcome="no_answer")
    assert (item.status, item.attempts, item.due_at) == ("open", 1, utcnow() + 2 * H)
    assert result.attempt.is_failed
    env.shift(2 * H)
    claim_next(me)
    record_attempt(me, item, outcome="voicemail")
    assert (item.status, item.attempts, item.due_at) == ("open", 2, utcnow() + 4 * H)
    env.shift(4 * H)
    claim_next(me)
    result = record_attempt(me, item, outcome="busy")
    assert item.status == "escalated" and item.attempts == 3
    assert result.escalation.reason == "attempts_exhausted"
    assert result.escalation.detail == "3 calls without an answer"


def test_a_retry_after_calling_hours_waits_for_the_morning(env):
    me = tracer()
    env.move_to(datetime(2026, 11, 23, 18, 30, tzinfo=UTC))
    item = item_for(new_case(1))
    claim_next(me)
    record_attempt(me, item, outcome="no_answer")
    assert item.due_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_unreached_after_24_hours_escalates(env):
    me = tracer()
    item = item_for(new_case(1))
    claim_next(me)
    record_attempt(me, item, outcome="no_answer")
    env.shift(24 * H)
    claim_next(me)
    result = record_attempt(me, item, outcome="no_answer")
    assert result.escalation.reason == "overdue" and item.status == "escalated"


def test_the_sweep_escalates_first_calls_left_24_hours(env):
    waiting = item_for(new_case(1))
    held_by_someone = item_for(new_case(2))
    env.shift(23 * H + 50 * M)
    claim_item(tracer(), held_by_someone)
    assert escalate_overdue() == 0
    env.shift(10 * M)
    assert escalate_overdue() == 1  # the held one is left to its tracer until the lease lapses
    assert waiting.status == "escalated" and held_by_someone.status == "claimed"
    env.shift(20 * M)
    assert escalate_overdue() == 1


def test_wrong_number_escalates_at_once(env):
    me = tracer()
    item = item_for(new_case(1))
    claim_next(me)
    result = record_attempt(me, item, outcome="wrong_number", notes="Number belongs to a bakery")
    assert item.status == "escalated" and result.escalation.reason == "wrong_number"


def test_refused_closes_without_escalation(env):
    me = tracer()
    item = item_for(new_case(1))
    claim_next(me)
    result = record_attempt(me, item, outcome="refused")
    assert item.status == "done" and item.outcome == "refused" and result.escalation is None


def test_callback_needs_a_future_time_and_comes_back_to_the_same_tracer(env):
    me, other = tracer(), tracer()
    item = item_for(new_case(1))
    claim_next(me)
    with pytest.raises(ValidationFailed) as exc:
        record_attempt(me, item, outcome="callback_requested")
    assert exc.value.errors == {"callback_at": ["Enter the date and time they asked to be called back"]}
    with pytest.raises(ValidationFailed):
        record_attempt(me, item, outcome="callback_requested", callback_at=utcnow() - M)
    result = record_attempt(me, item, outcome="callback_requested", callback_at=utcnow() + 3 * H)
    callback = result.new_item
    assert item.status == "done" and item.attempts == 0  # they answered: not a failed call
    assert (callback.kind, callback.band, callback.assignee_id) == ("callback", 1, me.id)
    env.shift(3 * H)
    assert claim_next(other) is None  # assigned to me for the rest of my shift
    assert claim_next(me).item.id == callback.id


def test_an_arranged_callback_returns_to_the_pool_after_the_shift(env):
    me, other = tracer(), tracer()
    item = item_for(new_case(1))
    claim_next(me)
    callback = record_attempt(me, item, outcome="callback_requested",
                              callback_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC)).new_item
    env.move_to(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert claim_next(other).item.id == callback.id


def test_language_barrier_goes_to_a_speaker_or_back_to_the_pool(env):
    me = tracer()
    speaker = tracer(languages="Polish, Urdu")
    first = item_for(new_case(1))
    second = item_for(new_case(2))
    claim_next(me)
    with pytest.raises(ValidationFailed):
        record_attempt(me, first, outcome="language_barrier")
    result = record_attempt(me, first, outcome="language_barrier", language="urdu")
    assert result.assigned_to.id == speaker.id and first.assignee_id == speaker.id and first.status == "open"
    assert first.person.language == "ur" and first.attempts == 0  # their texts go in Urdu from now on
    claim_next(me)
    result = record_attempt(me, second, outcome="language_barrier", language="Tigrinya")
    assert result.assigned_to is None and second.assignee_id is None and second.language == "Tigrinya"
    assert claim_next(speaker).item.id == first.id


def test_someone_with_a_language_goes_to_a_speaker_from_the_first_call(env):
    from tts.cases.services import create_case
    from tts.clock import today
    from tests.factories import person_data

    tracer()
    speaker = tracer(languages="Polish")
    polish = create_case(None, person_data(3, language="pl"), test_date=today(), symptom_onset_date=None)
    item = item_for(polish)
    assert (item.language, item.assignee_id) == ("Polish", speaker.id)
    somali = item_for(create_case(None, person_data(4, language="so"), test_date=today(), symptom_onset_date=None))
    assert (somali.language, somali.assignee_id) == ("Somali", None)  # nobody speaks it: the pool, marked


def test_assigned_items_go_only_to_the_assignee_ahead_of_pool_items_in_the_band(env):
    me, other = tracer(), tracer()
    pool = item_for(new_case(1))
    env.shift(M)
    mine = item_for(new_case(2))
    mine.assignee_id = me.id
    env.shift(M)
    assert claim_next(me).item.id == mine.id  # newer, but assigned to me: ahead of the older pool item
    assert claim_next(other).item.id == pool.id
    release_item(me, mine)
    assert claim_next(other) is None  # never handed to anyone but its assignee


def test_reaching_one_household_member_raises_the_others(env):
    me = tracer()
    case = new_case(1)
    member = add_contact(None, case, person_data(2, address=None, postcode=None, phone="07700 900222"),
                         relationship="household", last_exposure_date=today())
    member_item = item_for(member)
    member_item.due_at = utcnow() + H  # not due yet, so not claimed with the case
    claim = claim_next(me)
    assert claim.also_claimed == []
    result = record_attempt(me, claim.item, outcome="reached")
    assert [i.id for i in result.raised] == [member_item.id]
    assert member_item.is_household_raised and member_item.band == 1


def test_household_and_shared_phone_are_claimed_together_for_one_call(env):
    me, other = tracer(), tracer()
    case = new_case(1)
    member = add_contact(None, case, person_data(2, address=None, postcode=None, phone="07700 900222"),
                         relationship="household", last_exposure_date=today())
    same_phone = close_contact(case, 5, phone="07700 900001")  # shares the case's number
    stranger = close_contact(case, 6)
    claim = claim_next(me)
    assert claim.item.id == item_for(case).id
    assert {i.id for i in claim.also_claimed} == {item_for(member).id, item_for(same_phone).id}
    assert len({i.claim_token for i in [claim.item, *claim.also_claimed]}) == 3
    assert claim_next(other).item.id == item_for(stranger).id
    # Each person gets their own attempt from the one call.
    record_attempt(me, item_for(member), outcome="reached")
    record_attempt(me, claim.item, outcome="reached")
    record_attempt(me, item_for(same_phone), outcome="no_answer")
    assert [item_for(s).status for s in (case, member, same_phone)] == ["done", "done", "open"]


def test_one_outcome_for_everyone_on_the_call_applies_each_persons_rules(env):
    me = tracer()
    case = new_case(1)
    member = add_contact(None, case, person_data(2, address=None, postcode=None, phone="07700 900222"),
                         relationship="household", last_exposure_date=today())
    same_phone = close_contact(case, 5, phone="07700 900001")
    claim = claim_next(me)
    same_phone_item = item_for(same_phone)
    same_phone_item.attempts = 2  # two failed calls already: this one escalates, the others retry
    held = [(i, i.claim_token) for i in [*claim.also_claimed, claim.item]]
    results = record_call(me, held, outcome="no_answer", notes="Rang out")
    assert [r.item.id for r in results] == sorted(i.id for i, _ in held)  # in id order
    assert {r.attempt.outcome for r in results} == {"no_answer"}
    assert {r.attempt.notes for r in results} == {"Rang out"}
    assert [item_for(s).status for s in (case, member, same_phone)] == ["open", "open", "escalated"]
    assert [r.escalation is not None for r in results if r.item.id == same_phone_item.id] == [True]
    assert item_for(case).attempts == item_for(member).attempts == 1 and item_for(case).claimed_by_id is None


def test_one_outcome_for_a_call_is_all_or_nothing(env):
    me, other = tracer(), tracer()
    case = new_case(1)
    close_contact(case, 5, phone="07700 900001")
    claim = claim_next(me)
    companion = claim.also_claimed[0]
    with pytest.raises(ValidationFailed) as invalid:
        record_call(me, [(claim.item, claim.item.claim_token), (claim.item, claim.item.claim_token)],
                    outcome="callback_requested")
    assert set(invalid.value.errors) == {"items", "callback_at"}
    with pytest.raises(ValidationFailed) as empty:
        record_call(me, [], outcome="reached")
    assert set(empty.value.errors) == {"items"}
    with pytest.raises(NotClaimHolder):  # the companion's token is wrong: nothing is recorded for anyone
        with db.session.begin_nested():
            record_call(me, [(claim.item, claim.item.claim_token), (companion, "stale")], outcome="reached")
    assert claim.item.status == companion.status == "claimed"
    with pytest.raises(NotClaimHolder):
        with db.session.begin_nested():
            record_call(other, [(claim.item, None)], outcome="reached")


def test_one_call_takes_at_most_a_households_worth_of_companions(env, app):
    me = tracer()
    case = new_case(1)
    for n in range(8):  # eight other people give the case's number (an office phone, say)
        close_contact(case, 20 + n, phone="07700 900001")
    claim = claim_next(me)
    assert len(claim.also_claimed) == app.config["TTS_MAX_COMPANIONS"] == 5
    assert len(claim_next(tracer()).also_claimed) == 2  # the rest go to the next tracer's call


def test_a_companion_on_another_tracers_call_is_passed_over_and_the_call_filled_from_the_rest(env, app):
    """Other tracers' claims are checked once the companions are locked, and the cap of five counts only
    those taken: a person on someone else's call does not cost this call a place."""
    me, other = tracer(), tracer()
    case = new_case(1)
    contacts = [close_contact(case, 20 + n, phone="07700 900001") for n in range(8)]
    second_case = new_case(7, address="9 Other Road", postcode="S10 2TN")
    busy = add_contact(None, second_case, person_data(20, address=None, postcode=None, phone="07700 900001"),
                       relationship="household", last_exposure_date=today())
    assert busy.person_id == contacts[0].person_id  # one person, a contact of both cases
    claim_item(other, item_for(contacts[0]))  # on another tracer's call
    claim = claim_next(me)
    assert claim.item.id == item_for(case).id
    assert item_for(busy).band < item_for(contacts[1]).band  # first in line among the companions
    taken = [i.person_id for i in claim.also_claimed]
    assert contacts[0].person_id not in taken
    assert len(set(taken)) == app.config["TTS_MAX_COMPANIONS"] == 5
    assert item_for(busy).status == ItemStatus.OPEN


def test_a_person_on_another_tracers_call_is_never_handed_out(env):
    me, other = tracer(), tracer()
    first_case = new_case(1)
    second_case = new_case(7, address="9 Other Road", postcode="S10 2TN")
    shared = close_contact(first_case, 8)
    again = add_contact(None, second_case, person_data(8, address=None, postcode=None), relationship="close",
                        last_exposure_date=today())
    assert shared.person_id == again.person_id
    for subject in (first_case, second_case):
        item_for(subject).status = ItemStatus.DONE
    item_for(again).due_at = utcnow() + 5 * M
    claim = claim_next(me)
    assert claim.item.id == item_for(shared).id
    env.shift(10 * M)
    assert claim_next(other) is None  # the same person's other item waits for my call to end
    with pytest.raises(ClaimConflict):
        claim_item(other, item_for(again))


def test_callback_kind_label_and_kinds():
    assert {k.value for k in ItemKind} >= {"initial_call", "follow_up", "callback", "welfare_check", "doorstep_visit"}


def test_the_fifo_policy_hands_out_in_arrival_order_one_person_per_call(app, env):
    """TTS_QUEUE_POLICY=fifo (the capacity planner's baseline): no bands, no household on the same call,
    no household raise."""
    case = new_case(41)
    close = close_contact(case, 42)
    env.shift(M)
    later_case = new_case(43)
    household = add_contact(None, later_case, person_data(44, address=None, postcode=None),
                            relationship="household", last_exposure_date=today())
    db.session.flush()
    user = tracer()
    app.config["TTS_QUEUE_POLICY"] = "fifo"
    try:
        order = []
        for _ in range(4):
            claim = claim_next(user)
            assert claim.also_claimed == []
            order.append(claim.item.person_id)
            result = record_attempt(user, claim.item, outcome="reached", claim_token=claim.item.claim_token)
            assert result.raised == []
        assert order == [case.person_id, close.person_id, later_case.person_id, household.person_id]
    finally:
        app.config["TTS_QUEUE_POLICY"] = "tts"
    # The app's own rules for the same queue: the household contact is called with the later case.
    assert item_for(close).band == 3
