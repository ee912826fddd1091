"""The cluster rule, an outbreak's life (actions, status, the worker's closure proposal), and its chain."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tests.outbreaks.conftest import new_case, new_setting
from tts.audit.models import AuditEvent
from tts.cases import lifecycle
from tts.cases.models import Relationship
from tts.cases.services import add_contact, convert_contact
from tts.clock import today
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.outbreaks import services
from tts.outbreaks.models import ActionKind, Outbreak, OutbreakAction
from tts.outbreaks.services import OutbreakConflict, link, live_outbreak


def outbreaks_at(setting) -> list[Outbreak]:
    return list(db.session.scalars(select(Outbreak).where(Outbreak.setting_id == setting.id)))


@pytest.mark.parametrize("apart, opens", [(0, True), (13, True), (14, True), (15, False), (30, False)])
def test_two_cases_open_an_outbreak_only_within_the_days(octx, apart, opens):
    setting = new_setting()
    first, second = new_case(1, days_ago=apart), new_case(2, days_ago=0)
    link(None, setting, case=first)
    assert outbreaks_at(setting) == []
    link(None, setting, case=second)
    found = outbreaks_at(setting)
    assert bool(found) is opens
    if opens:
        assert sorted(services.case_ids(found[0])) == sorted([first.id, second.id])
        assert found[0].found_by_rule and found[0].status == "open"


def test_one_case_is_not_an_outbreak_and_the_order_of_linking_does_not_matter(octx):
    setting = new_setting()
    later, earlier = new_case(1, days_ago=1), new_case(2, days_ago=15)
    link(None, setting, case=later)
    assert outbreaks_at(setting) == []
    link(None, setting, case=earlier)  # 14 days apart, the earlier one linked second
    assert len(outbreaks_at(setting)) == 1


def test_the_threshold_follows_the_setting(octx, app, monkeypatch):
    monkeypatch.setitem(app.config, "TTS_CLUSTER_CASES", 3)
    setting = new_setting()
    for n in range(2):
        link(None, setting, case=new_case(n, days_ago=n))
    assert outbreaks_at(setting) == []
    link(None, setting, case=new_case(5, days_ago=2))
    assert len(outbreaks_at(setting)) == 1


def test_a_live_outbreak_takes_in_new_cases_and_a_closed_one_does_not(octx):
    setting = new_setting()
    a, b, c = new_case(1), new_case(2), new_case(3)
    link(None, setting, case=a)
    link(None, setting, case=b)
    outbreak = live_outbreak(setting.id)
    link(None, setting, case=c)
    assert sorted(services.case_ids(outbreak)) == sorted([a.id, b.id, c.id])
    assert len(outbreaks_at(setting)) == 1
    services.change_status(None, outbreak, status="closed", reason="Over")
    d = new_case(4)
    link(None, setting, case=d)  # with the recent cases, a new cluster: a new outbreak
    assert len(outbreaks_at(setting)) == 2
    assert d.id in services.case_ids(live_outbreak(setting.id))


def test_cases_closed_as_never_having_been_cases_do_not_count(octx):
    setting = new_setting()
    mistake = new_case(1)
    link(None, setting, case=mistake)
    lifecycle.close(None, mistake, reason="entered_in_error", notes=None)
    link(None, setting, case=new_case(2))
    assert outbreaks_at(setting) == []


def test_opening_sets_the_call_to_the_setting_band_1_for_care_homes(octx):
    home, office = new_setting(1, kind="care_home"), new_setting(2, kind="workplace", postcode="S1 2HH")
    for setting, n in ((home, 1), (office, 3)):
        link(None, setting, case=new_case(n))
        link(None, setting, case=new_case(n + 1))
    calls = {a.outbreak.setting_id: a for a in services.waiting_actions()}
    assert calls[home.id].kind == ActionKind.CALL_SETTING and calls[home.id].band == 1
    assert "Morwenna Quillon" in calls[home.id].notes and "0114 496 0123" in calls[home.id].notes
    assert calls[office.id].band == 2
    assert services.waiting_actions()[0].outbreak.setting_id == home.id  # care homes first
    opened = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbreak.open",
                                                        AuditEvent.record_id == live_outbreak(home.id).id))
    assert opened.details["by_rule"] is True


def test_opening_by_hand_and_only_one_live_outbreak_per_setting(octx):
    setting = new_setting()
    case = new_case(1)
    link(None, setting, case=case)
    with pytest.raises(ValidationFailed) as missing:
        services.open_outbreak(None, setting, reason="  ")
    assert "reason" in missing.value.errors
    boss = UserFactory(role="supervisor")
    outbreak = services.open_outbreak(boss, setting, reason="The manager reports three residents unwell")
    assert services.case_ids(outbreak) == [case.id]
    assert not outbreak.found_by_rule and outbreak.opened_by_id == boss.id
    with pytest.raises(OutbreakConflict):
        services.open_outbreak(None, setting, reason="Again")


def test_actions_done_and_to_do(octx):
    setting = new_setting()
    outbreak = services.open_outbreak(None, setting, reason="Reported by the manager")
    done = services.add_action(None, outbreak, kind="risk_assessment", notes="Two residents, one staff", due_date=None)
    todo = services.add_action(None, outbreak, kind="testing_arranged", notes="Whole-home testing",
                               due_date=today() + timedelta(days=2))
    assert done.is_done and not todo.is_done
    with pytest.raises(ValidationFailed) as bad:
        services.add_action(None, outbreak, kind="status_changed", notes="x" * 5001, due_date=None, done=False)
    assert set(bad.value.errors) == {"kind", "notes", "due_date"}
    services.complete_action(None, todo, "Kits delivered")
    assert todo.is_done and "Kits delivered" in todo.notes
    with pytest.raises(OutbreakConflict):
        services.complete_action(None, todo)


def test_status_changes_need_a_reason_and_a_closed_one_reopens_only_if_no_other_is_live(octx):
    setting = new_setting()
    first = services.open_outbreak(None, setting, reason="Reported")
    with pytest.raises(ValidationFailed) as bad:
        services.change_status(None, first, status="finished", reason="")
    assert set(bad.value.errors) == {"status", "reason"}
    services.change_status(None, first, status="monitoring", reason="Measures in place")
    services.change_status(None, first, status="closed", reason="No new cases")
    assert first.closed_at is not None
    second = services.open_outbreak(None, setting, reason="Another wave")
    with pytest.raises(OutbreakConflict):
        services.change_status(None, first, status="open", reason="Mistake")
    kinds = [a.kind for a in first.actions]
    assert kinds.count("status_changed") == 2 and second.status == "open"


def test_a_new_case_puts_a_monitored_outbreak_back_to_open(octx):
    setting = new_setting()
    link(None, setting, case=new_case(1))
    link(None, setting, case=new_case(2))
    outbreak = live_outbreak(setting.id)
    services.change_status(None, outbreak, status="monitoring", reason="Measures in place")
    link(None, setting, case=new_case(3))
    assert outbreak.status == "open" and "new case" in outbreak.status_reason


@pytest.mark.parametrize("quiet_days, proposed", [(27, False), (28, True)])
def test_the_worker_proposes_closing_a_quiet_outbreak_once(octx, quiet_days, proposed):
    setting = new_setting()
    link(None, setting, case=new_case(1, days_ago=40))
    link(None, setting, case=new_case(2, days_ago=quiet_days))
    outbreak = live_outbreak(setting.id)
    assert services.propose_closures.__wrapped__() == (1 if proposed else 0)
    assert (outbreak.closure_proposed_at is not None) is proposed
    advised = [a for a in outbreak.actions if a.kind == "closure_advised"]
    assert len(advised) == (1 if proposed else 0)
    assert services.propose_closures.__wrapped__() == 0  # once
    if proposed:
        link(None, setting, case=new_case(3))  # a new case: no longer quiet
        assert outbreak.closure_proposed_at is None


def test_the_chain_comes_from_contacts_who_became_cases_and_their_settings_follow_them(octx):
    setting = new_setting()
    index = new_case(1, days_ago=6, onset_days_ago=7)
    link(None, setting, case=index)
    contact = add_contact(None, index, person_data(20, last_name="Chainlink", phone="07700 900620"),
                          relationship=Relationship.CLOSE, last_exposure_date=today() - timedelta(days=5))
    link(None, setting, contact=contact)
    assert live_outbreak(setting.id) is None  # a contact is not a case
    second = convert_contact(None, contact, test_date=today() - timedelta(days=1), symptom_onset_date=None)
    outbreak = live_outbreak(setting.id)
    assert outbreak is not None and sorted(services.case_ids(outbreak)) == sorted([index.id, second.id])
    cases = services.member_cases(outbreak)
    assert [(a.id, b.id) for a, b in services.chain(cases)] == [(index.id, second.id)]
    curve = services.epicurve(cases)
    assert curve[0]["day"] == today() - timedelta(days=7) and curve[0]["onset"] == 1
    assert curve[-1]["day"] == today() - timedelta(days=1) and curve[-1]["test"] == 1
    assert len(curve) == 7 and sum(d["onset"] + d["test"] for d in curve) == 2


def test_linking_twice_keeps_one_link_with_the_later_date(octx):
    setting = new_setting()
    case = new_case(1)
    first = link(None, setting, case=case, last_attended=today() - timedelta(days=5))
    again = link(None, setting, case=case, last_attended=today() - timedelta(days=2))
    assert first.id == again.id and again.last_attended == today() - timedelta(days=2)
    with pytest.raises(ValidationFailed) as future:
        link(None, setting, case=case, last_attended=today() + timedelta(days=1))
    assert "last_attended" in future.value.errors
    with pytest.raises(ValidationFailed) as none:
        link(None, None, case=case)
    assert "setting_id" in none.value.errors
    assert db.session.scalar(select(OutbreakAction.id).limit(1)) is None


def test_an_outbreak_opened_by_hand_with_no_case_is_proposed_for_closure_from_when_it_opened(octx):
    from tts.clock import utcnow

    outbreak = services.open_outbreak(None, new_setting(), reason="The manager reports residents unwell")
    assert services.propose_closures.__wrapped__() == 0
    outbreak.opened_at = utcnow() - timedelta(days=28)
    assert services.propose_closures.__wrapped__() == 1
    assert "it opened" in [a for a in outbreak.actions if a.kind == "closure_advised"][0].notes
