"""Texts go through the outbox: exact SDK requests, retries, lookups before resends, opt-outs, landlines."""
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tests.telephony.conftest import SERVICE, twilio_error
from tts.callqueue.models import WorkItem
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_next
from tts.cases.services import create_case
from tts.clock import LONDON, today, utcnow
from tts.extensions import db
from tts.telephony.models import Message
from tts.telephony.services import deliver_due, queue_sms, reconcile


@pytest.fixture
def env(app, daytime, fake_twilio):
    with app.app_context():
        yield daytime


def new_case(n=1, **kw):
    return create_case(None, person_data(n, **kw), test_date=today(), symptom_onset_date=None)


def messages(person_id=None):
    stmt = select(Message).order_by(Message.id)
    if person_id:
        stmt = stmt.where(Message.person_id == person_id)
    return db.session.scalars(stmt).all()


def test_a_new_case_queues_an_introduction_sent_by_the_worker(env, fake_twilio, app):
    case = new_case(1)
    (intro,) = messages(case.person_id)
    assert (intro.trigger, intro.status, intro.to_number) == ("introduction", "queued", "+447700900001")
    assert intro.body.startswith("Hello Bram, this is the council's test and trace team")
    assert fake_twilio.requests == []  # nothing is sent inside the transaction that queued it
    assert deliver_due() == 1
    (request,) = fake_twilio.posts("/Messages.json")
    assert request["data"] == {"To": "+447700900001", "MessagingServiceSid": SERVICE, "Body": intro.body,
                               "StatusCallback": "http://127.0.0.1:5000/twilio/sms/status"}
    assert request["uri"].endswith(f"/Accounts/{app.extensions['tts_gateway'].client.account_sid}/Messages.json")
    db.session.refresh(intro)
    assert intro.status == "sending" and intro.twilio_sid.startswith("SM") and intro.attempts == 1


def test_from_number_is_used_without_a_messaging_service(env, fake_twilio, app):
    app.extensions["tts_gateway"].messaging_service_sid = None
    app.extensions["tts_gateway"].sms_from = "+447700900000"
    new_case(1)
    deliver_due()
    data = fake_twilio.posts("/Messages.json")[0]["data"]
    assert data["From"] == "+447700900000" and "MessagingServiceSid" not in data


def test_failed_call_sends_we_tried_and_reached_sends_advice(env, fake_twilio):
    case = new_case(1)
    tracer = UserFactory(role="tracer")
    item = db.session.scalars(select(WorkItem).where(WorkItem.case_id == case.id)).one()
    claim_next(tracer)
    record_attempt(tracer, item, outcome="no_answer")
    env.shift(timedelta(hours=2))
    claim_next(tracer)
    record_attempt(tracer, item, outcome="reached")
    triggers = [m.trigger for m in messages(case.person_id)]
    # Check-ins on days 2, 5 and 8 after isolation started (the test date, today): each at 10:00.
    assert triggers == ["introduction", "missed_call", "isolation_advice", "checkin", "checkin", "checkin"]
    advice = messages(case.person_id)[2]
    assert f"until the end of {case.isolation_end_date:%A %-d %B}" in advice.body
    checkins = messages(case.person_id)[3:]
    assert [m.next_attempt_at.astimezone(LONDON).date() - case.test_date for m in checkins] == [
        timedelta(days=2), timedelta(days=5), timedelta(days=8)]
    assert all(m.next_attempt_at.astimezone(LONDON).hour == 10 for m in checkins)
    assert item.attempts == 1  # texts never count as call attempts


def test_disabled_trigger_sends_nothing(env, fake_twilio, app):
    from tts.telephony.services import get_template, update_template

    template = get_template("introduction")
    update_template(None, template, body=template.body, is_enabled=False)
    case = new_case(1)
    assert messages(case.person_id) == []


def test_opted_out_and_landline_are_skipped_with_a_reason(env, fake_twilio):
    opted = new_case(1)
    landline = new_case(2, phone="0114 496 0222", address="7 Other St")
    opted.person.has_sms_opt_out = True
    queue_sms(None, opted.person, "missed_call")
    (intro_landline,) = messages(landline.person_id)
    assert intro_landline.status == "skipped" and "not a mobile" in intro_landline.error_message
    skipped = messages(opted.person_id)[-1]
    assert skipped.status == "skipped" and "opted out" in skipped.error_message
    deliver_due()
    assert all(r["data"]["To"] != "+441144960222" for r in fake_twilio.posts("/Messages.json"))


def test_opting_out_after_queueing_stops_the_send(env, fake_twilio):
    case = new_case(1)
    case.person.has_sms_opt_out = True
    deliver_due()
    assert fake_twilio.requests == [] and messages(case.person_id)[0].status == "skipped"


def test_429_retries_later_without_a_lookup(env, fake_twilio):
    case = new_case(1)
    fake_twilio.script = [twilio_error(429, 20429, "Too Many Requests")]
    deliver_due()
    (message,) = messages(case.person_id)
    assert message.status == "queued" and not message.needs_lookup and message.next_attempt_at > utcnow()
    env.shift(timedelta(minutes=2))
    deliver_due()
    assert [r["method"] for r in fake_twilio.requests] == ["POST", "POST"]
    assert message.status == "sending" and message.attempts == 2


def test_connection_refused_retries_without_a_lookup(env, fake_twilio):
    new_case(1)
    fake_twilio.script = [requests.exceptions.ConnectionError("refused")]
    deliver_due()
    env.shift(timedelta(minutes=2))
    deliver_due()
    assert [r["method"] for r in fake_twilio.requests] == ["POST", "POST"]


def test_500_is_ambiguous_so_it_is_looked_up_before_any_resend(env, fake_twilio):
    case = new_case(1)
    fake_twilio.script = [twilio_error(500, 20500, "Internal Server Error")]
    deliver_due()
    (message,) = messages(case.person_id)
    assert message.status == "queued" and message.needs_lookup
    env.shift(timedelta(minutes=2))
    deliver_due()  # not in Twilio's list: send again
    assert [r["method"] for r in fake_twilio.requests] == ["POST", "GET", "POST"]
    lookup = fake_twilio.requests[1]
    assert lookup["params"]["To"] == "+447700900001" and "DateSent>" in lookup["params"]
    assert message.status == "sending" and not message.needs_lookup


def test_timeout_then_found_in_twilio_is_not_sent_twice(env, fake_twilio):
    case = new_case(1)
    fake_twilio.script = [requests.exceptions.ReadTimeout("slow")]
    deliver_due()
    (message,) = messages(case.person_id)
    fake_twilio.listed = [{"sid": "SMfound000", "status": "sent", "to": "+447700900001", "body": message.body}]
    env.shift(timedelta(minutes=2))
    deliver_due()
    assert [r["method"] for r in fake_twilio.requests] == ["POST", "GET"]
    assert message.twilio_sid == "SMfound000" and message.status == "sent"


def test_retries_give_up_visibly(env, fake_twilio, app):
    case = new_case(1)
    fake_twilio.script = [twilio_error(429, 20429)] * 10
    for _ in range(app.config["TTS_SMS_MAX_ATTEMPTS"]):
        deliver_due()
        env.shift(timedelta(hours=2))
    (message,) = messages(case.person_id)
    assert message.status == "failed" and message.error_message.startswith("Gave up after 5 tries")


@pytest.mark.parametrize("code, reason", [(21211, "not valid"), (21614, "not a mobile"), (21408, "not enabled"),
                                          (20003, "credentials")])
def test_permanent_errors_fail_at_once(env, fake_twilio, code, reason):
    case = new_case(1)
    fake_twilio.script = [twilio_error(400, code)]
    deliver_due()
    (message,) = messages(case.person_id)
    assert message.status == "failed" and message.error_code == code and reason in message.error_message
    env.shift(timedelta(hours=1))
    deliver_due()
    assert len(fake_twilio.requests) == 1


def test_21610_marks_the_person_opted_out(env, fake_twilio):
    case = new_case(1)
    fake_twilio.script = [twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")]
    deliver_due()
    assert case.person.has_sms_opt_out
    queue_sms(None, case.person, "missed_call")
    assert messages(case.person_id)[-1].status == "skipped"


def test_reconciler_fetches_stuck_messages_and_recovers_orphans(env, fake_twilio):
    case = new_case(1)
    deliver_due()
    (message,) = messages(case.person_id)
    orphan = queue_sms(None, case.person, "missed_call")
    orphan.status, orphan.status_updated_at = "sending", utcnow()  # a worker died mid-send
    db.session.flush()
    env.shift(timedelta(minutes=45))
    assert reconcile() == 2
    assert message.status == "delivered"
    assert orphan.status == "queued" and orphan.needs_lookup
    assert any("/Messages/" in r["uri"] and r["method"] == "GET" for r in fake_twilio.requests)


def test_a_text_never_confirmed_is_looked_up_for_72_hours_then_left_as_sent(env, fake_twilio):
    case = new_case(1)
    deliver_due()
    (message,) = messages(case.person_id)
    fake_twilio.requests.clear()
    env.shift(timedelta(hours=73))
    message.status, message.status_updated_at = "sent", utcnow() - timedelta(hours=1)
    db.session.flush()
    assert reconcile() == 0  # older than TTS_RECONCILE_MAX_HOURS: not fetched again
    assert not [r for r in fake_twilio.requests if r["method"] == "GET"]
    assert message.status == "sent"


def test_a_twilio_outage_of_hours_loses_nothing_and_sends_nothing_twice(env, fake_twilio):
    """Two hours of timeouts, 5xx answers and refused connections, then Twilio is back: every message
    goes, exactly once, including those Twilio accepted although the answer never reached us."""
    import itertools
    import json
    import uuid

    from twilio.http.response import Response

    accepted: list[tuple[str, str]] = []  # (to, body) of every message Twilio really took
    real_request = fake_twilio.request
    failures = itertools.cycle(["timeout-but-sent", "503", "refused", "timeout", "500-but-sent"])
    state = {"down": True}

    def request(method, uri, params=None, data=None, **kwargs):
        creating = method == "POST" and uri.endswith("/Messages.json")
        if state["down"]:
            fake_twilio.requests.append({"method": method, "uri": uri, "params": dict(params or {}),
                                         "data": dict(data or {})})
            failure = next(failures)
            if creating and failure.endswith("-but-sent"):
                accepted.append((data["To"], data["Body"]))
                fake_twilio.listed.append({"sid": "SM" + uuid.uuid4().hex, "status": "sent", "to": data["To"],
                                           "body": data["Body"]})
            if failure.startswith("timeout"):
                raise requests.exceptions.ReadTimeout("Twilio is not answering")
            if failure == "refused":
                raise requests.exceptions.ConnectionError("connection refused")
            code = int(failure[:3])
            return Response(code, json.dumps({"code": 20000 + code, "message": "unavailable", "status": code}))
        response = real_request(method, uri, params=params, data=data, **kwargs)
        if creating:
            accepted.append((data["To"], data["Body"]))
        return response

    fake_twilio.request = request
    people = [new_case(n).person for n in range(1, 7)]
    for _ in range(24):  # the worker keeps going every five minutes through two hours of outage
        deliver_due()
        env.shift(timedelta(minutes=5))
    assert all(m.status in ("queued", "sending") or m.twilio_sid for m in messages())
    assert not [m for m in messages() if m.status == "failed"]
    state["down"] = False
    for _ in range(12):
        deliver_due()
        env.shift(timedelta(minutes=15))
    sent = messages()
    assert len(sent) == len(people) and all(m.twilio_sid for m in sent)
    assert sorted(accepted) == sorted({(m.to_number, m.body) for m in sent})  # each exactly once


def test_a_text_queued_before_the_person_opted_out_is_skipped_not_sent(env, fake_twilio):
    case = new_case(1)
    other = new_case(2)
    case.person.has_sms_opt_out = True  # a STOP arrived after the introduction was queued
    db.session.flush()
    assert deliver_due() == 1  # only the other person's introduction goes out
    (request,) = fake_twilio.posts("/Messages.json")
    assert request["data"]["To"] == other.person.phone
    (intro,) = messages(case.person_id)
    db.session.refresh(intro)
    assert (intro.status, intro.error_message, intro.next_attempt_at) == (
        "skipped", "Not sent: they opted out before it went", None)
    assert deliver_due() == 0


def test_a_crashed_workers_texts_are_handed_on_after_minutes_not_half_an_hour(env, fake_twilio):
    case = new_case(1)
    deliver_due()
    orphan = queue_sms(None, case.person, "missed_call")
    orphan.status, orphan.status_updated_at = "sending", utcnow()  # a worker died mid-send
    db.session.flush()
    env.shift(timedelta(minutes=2))
    reconcile()
    assert orphan.status == "sending"  # a live worker may still be sending it: left alone
    env.shift(timedelta(minutes=2))
    reconcile()
    assert orphan.status == "queued" and orphan.needs_lookup  # looked up in Twilio before any send


def test_a_slow_batch_gives_back_the_claims_it_cannot_start_in_time(env, fake_twilio, app, monkeypatch):
    """Every send starts within TTS_OUTBOX_SEND_WINDOW_SECONDS of its claim (what makes the few-minute orphan
    rule safe): past it, the rest of the batch goes back to the queue unsent, for the next pass."""
    import time

    from tts.telephony import client

    for n in range(4):
        new_case(n + 1)
    slow = client.gateway().send_sms

    def send_slowly(**kwargs):
        time.sleep(0.01)
        return slow(**kwargs)

    monkeypatch.setattr(client.gateway(), "send_sms", send_slowly)
    monkeypatch.setitem(app.config, "TTS_OUTBOX_SEND_WINDOW_SECONDS", 0)
    assert deliver_due() == 1
    rows = messages()
    assert [m.status for m in rows].count("queued") == 3
    assert all(m.attempts == 0 and not m.needs_lookup for m in rows if m.status == "queued")
    monkeypatch.setitem(app.config, "TTS_OUTBOX_SEND_WINDOW_SECONDS", 60)
    assert deliver_due() == 3
    assert len([r for r in fake_twilio.requests if r["method"] == "POST"]) == 4  # each sent once
