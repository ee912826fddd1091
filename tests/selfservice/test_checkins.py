"""Check-ins while isolating: texts on the days in TTS_CHECKIN_DAYS, replies 1/2/3 through the inbound
webhook, non-responders after 24 hours, a welfare call after two missed in a row."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tests.telephony.conftest import signed_post
from tts.callqueue.models import WorkItem
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_next
from tts.cases.models import Case
from tts.cases.services import create_case
from tts.clock import LONDON, today
from tts.extensions import db
from tts.selfservice.checkins import non_responders, sweep_checkins
from tts.selfservice.models import CheckIn, TeamAlert
from tts.support.models import SupportNeed
from tts.telephony.services import deliver_due


def reached_case(n):
    """A case reached by a call today: check-ins planned on days 2, 5 and 8."""
    case = create_case(None, person_data(n), test_date=today(), symptom_onset_date=None)
    tracer = UserFactory(role="tracer")
    item = db.session.scalars(select(WorkItem).where(WorkItem.case_id == case.id)).one()
    claim_next(tracer)
    record_attempt(tracer, item, outcome="reached")
    db.session.flush()
    return case


def run_worker(daytime, case, day: int, hour: int = 10, minute: int = 5):
    """Move to `day` days after the case's test date at hour:minute (London), send what is due, sweep the
    check-ins (as the worker's pass does)."""
    at = datetime.combine(case.test_date + timedelta(days=day), datetime.min.time(), tzinfo=LONDON)
    daytime.move_to(at.replace(hour=hour, minute=minute))
    deliver_due()
    sweep_checkins()
    db.session.flush()


@pytest.fixture
def env(app, daytime):
    with app.app_context():
        yield daytime


def test_check_ins_are_planned_on_the_configured_days_at_ten(env):
    case = reached_case(101)
    checkins = db.session.scalars(select(CheckIn).where(CheckIn.case_id == case.id).order_by(CheckIn.day)).all()
    assert [(c.day, c.send_on - case.test_date) for c in checkins] == [
        (2, timedelta(days=2)), (5, timedelta(days=5)), (8, timedelta(days=8))]
    assert all(c.due_at.astimezone(LONDON).hour == 10 for c in checkins)


def test_the_days_are_a_setting(app, env):
    app.config["TTS_CHECKIN_DAYS"] = "3"
    try:
        case = reached_case(102)
        assert [c.day for c in db.session.scalars(select(CheckIn).where(CheckIn.case_id == case.id))] == [3]
    finally:
        app.config["TTS_CHECKIN_DAYS"] = "2,5,8"


def reply(app, client, phone, body, sid):
    return signed_post(client, app, "/twilio/sms/inbound", {"MessageSid": sid, "From": phone, "Body": body})


def test_a_reply_of_2_puts_a_priority_welfare_call_first(app, client, ctx, daytime):
    with ctx():
        case = reached_case(103)
        run_worker(daytime, case, 2)
        person_id, phone = case.person_id, case.person.phone
    assert reply(app, client, phone, "2", "SMci2").status_code in (200, 204)
    with ctx():
        checkin = db.session.scalar(select(CheckIn).where(CheckIn.person_id == person_id, CheckIn.day == 2))
        assert checkin.reply == "2" and checkin.replied_at is not None
        item = db.session.scalar(select(WorkItem).where(WorkItem.person_id == person_id, WorkItem.kind == "welfare_check"))
        assert (item.band, item.status) == (1, "open")
        assert db.session.scalar(select(TeamAlert.kind).where(TeamAlert.person_id == person_id)) == "checkin_worse"
        # Not also a plain callback: the reply was understood.
        assert db.session.scalar(select(WorkItem.id).where(WorkItem.person_id == person_id, WorkItem.kind == "callback")) is None


def test_a_reply_of_3_logs_a_support_need_and_tells_supervisors(app, client, ctx, daytime):
    with ctx():
        case = reached_case(104)
        run_worker(daytime, case, 2)
        person_id, phone = case.person_id, case.person.phone
    reply(app, client, phone, "3", "SMci3")
    with ctx():
        need = db.session.scalar(select(SupportNeed).where(SupportNeed.person_id == person_id))
        assert (need.status, need.urgency) == ("requested", "today")
        assert db.session.scalar(select(TeamAlert.kind).where(TeamAlert.person_id == person_id)) == "checkin_help"


def test_a_reply_of_1_is_recorded_and_anything_else_is_a_plain_reply(app, client, ctx, daytime):
    with ctx():
        case = reached_case(105)
        run_worker(daytime, case, 2)
        person_id, phone = case.person_id, case.person.phone
    reply(app, client, phone, "1", "SMci1")
    reply(app, client, phone, "Can someone ring me?", "SMci1b")
    with ctx():
        assert db.session.scalar(select(CheckIn.reply).where(CheckIn.person_id == person_id, CheckIn.day == 2)) == "1"
        kinds = db.session.scalars(select(WorkItem.kind).where(WorkItem.person_id == person_id, WorkItem.status == "open")).all()
        assert kinds == ["callback"]  # the free-text reply asks for a call, as before


def test_no_reply_in_24_hours_is_a_non_responder_and_two_missed_queue_a_welfare_call(app, client, ctx, daytime):
    with ctx():
        case = reached_case(106)
        run_worker(daytime, case, 2)
        run_worker(daytime, case, 3, hour=10, minute=30)  # 24 hours after day 2's text
        listed = non_responders()
        assert [(c.person_id, c.day, missed) for c, missed in listed] == [(case.person_id, 2, 1)]
        assert db.session.scalar(select(WorkItem.id).where(WorkItem.person_id == case.person_id,
                                                           WorkItem.kind == "welfare_check")) is None
        run_worker(daytime, case, 5)
        run_worker(daytime, case, 6, hour=10, minute=30)
        item = db.session.scalar(select(WorkItem).where(WorkItem.person_id == case.person_id,
                                                        WorkItem.kind == "welfare_check"))
        assert item is not None and item.status == "open"
        assert db.session.scalar(select(TeamAlert.kind).where(TeamAlert.person_id == case.person_id)) == "checkins_missed"


def test_stop_still_opts_out_of_check_ins(app, client, ctx, daytime):
    with ctx():
        case = reached_case(107)
        person_id, phone, case_id = case.person_id, case.person.phone, case.id
    reply(app, client, phone, "STOP", "SMstop")
    with ctx():
        run_worker(daytime, db.session.get(Case, case_id), 2)
        checkin = db.session.scalar(select(CheckIn).where(CheckIn.person_id == person_id, CheckIn.day == 2))
        assert checkin.cancelled_at is not None and checkin.sent_at is None  # skipped, so nobody waits for a reply
        assert non_responders() == []
