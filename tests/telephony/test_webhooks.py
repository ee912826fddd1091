"""Signed webhooks: 403 without a good signature; repeats and late callbacks change nothing; replies."""
import pytest
from sqlalchemy import func, select

from tests.factories import UserFactory, person_data
from tests.telephony.conftest import signed_post
from tts.callqueue.models import WorkItem
from tts.callqueue.services import claim_next
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.people.models import Person
from tts.telephony.models import Message, PhoneCall
from tts.telephony.services import deliver_due, queue_sms


@pytest.fixture
def sent(ctx, daytime):
    """A case whose introduction text has gone to (simulated) Twilio."""
    with ctx():
        case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        person_id = case.person_id
    with ctx():
        deliver_due()
        message = db.session.scalars(select(Message).where(Message.person_id == person_id)).one()
        return {"sid": message.twilio_sid, "message_id": message.id, "person_id": person_id}


def status(app, message_id):
    with app.app_context():
        message = db.session.get(Message, message_id)
        return message.status, message.error_code, message.error_message


def test_missing_or_wrong_signature_is_403(client, app, sent):
    params = {"MessageSid": sent["sid"], "MessageStatus": "delivered"}
    assert client.post("/twilio/sms/status", data=params).status_code == 403
    assert client.post("/twilio/sms/status", data=params, headers={"X-Twilio-Signature": "bad"}).status_code == 403
    assert signed_post(client, app, "/twilio/sms/status", params, token="not-the-token").status_code == 403
    tampered = signed_post(client, app, "/twilio/sms/status", params)
    assert tampered.status_code == 204
    for path in ("/twilio/sms/inbound", "/twilio/voice/status", "/twilio/voice/bridge?call=1"):
        assert client.post(path, data={"x": "1"}).status_code == 403, path
    assert status(app, sent["message_id"])[0] == "delivered"


def test_signature_covers_the_public_url_and_query(client, app, sent):
    app.config["TTS_PUBLIC_URL"] = "https://tts.council.example"
    try:
        params = {"MessageSid": sent["sid"], "MessageStatus": "sent"}
        assert signed_post(client, app, "/twilio/sms/status", params).status_code == 204
        url = "http://localhost/twilio/sms/status"  # what the app sees behind a proxy: not what Twilio signed
        from twilio.request_validator import RequestValidator

        from tts.telephony.client import SIMULATED_AUTH_TOKEN

        sig = RequestValidator(SIMULATED_AUTH_TOKEN).compute_signature(url, params)
        assert client.post("/twilio/sms/status", data=params, headers={"X-Twilio-Signature": sig}).status_code == 403
    finally:
        app.config["TTS_PUBLIC_URL"] = "http://127.0.0.1:5000"


def test_real_auth_token_is_used_when_configured(client, app, sent):
    app.config["TWILIO_AUTH_TOKEN"] = "council-auth-token"
    try:
        params = {"MessageSid": sent["sid"], "MessageStatus": "sent"}
        assert signed_post(client, app, "/twilio/sms/status", params).status_code == 403  # simulator's token
        assert signed_post(client, app, "/twilio/sms/status", params, token="council-auth-token").status_code == 204
    finally:
        app.config["TWILIO_AUTH_TOKEN"] = None


def test_duplicate_and_out_of_order_callbacks(client, app, sent):
    sid = sent["sid"]
    assert signed_post(client, app, "/twilio/sms/status", {"MessageSid": sid, "MessageStatus": "delivered"}).status_code == 204
    assert signed_post(client, app, "/twilio/sms/status", {"MessageSid": sid, "MessageStatus": "delivered"}).status_code == 204
    signed_post(client, app, "/twilio/sms/status", {"MessageSid": sid, "MessageStatus": "sent"})  # late
    assert status(app, sent["message_id"])[0] == "delivered"
    signed_post(client, app, "/twilio/sms/status", {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert status(app, sent["message_id"])[0] == "delivered"  # the first final status stands
    from tts.telephony.models import WebhookEvent

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 3


def test_idempotency_token_header_makes_a_retry_a_no_op(client, app, sent):
    sid = sent["sid"]
    headers = {"I-Twilio-Idempotency-Token": "token-abc"}
    signed_post(client, app, "/twilio/sms/status", {"MessageSid": sid, "MessageStatus": "undelivered",
                                                    "ErrorCode": "30005"}, headers=headers)
    assert status(app, sent["message_id"]) == ("undelivered", 30005, "The number is unknown or no longer in use")


def test_stop_opts_out_and_nothing_more_is_sent_then_start_opts_in(client, app, sent):
    phone = "+447700900001"
    response = signed_post(client, app, "/twilio/sms/inbound", {"MessageSid": "SMin1", "From": phone,
                                                                "To": "+447700900000", "Body": "Stop"})
    assert response.status_code == 200 and response.data == b"<Response/>"
    with app.app_context():
        person = db.session.get(Person, sent["person_id"])
        assert person.has_sms_opt_out
        message = queue_sms(None, person, "missed_call")
        assert message.status == "skipped"
        db.session.commit()
    signed_post(client, app, "/twilio/sms/inbound", {"MessageSid": "SMin2", "From": phone, "Body": "START"})
    with app.app_context():
        assert not db.session.get(Person, sent["person_id"]).has_sms_opt_out


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "END", "quit"])
def test_stop_synonyms(client, app, sent, word):
    signed_post(client, app, "/twilio/sms/inbound", {"MessageSid": f"SM{word}", "From": "+447700900001", "Body": word})
    with app.app_context():
        assert db.session.get(Person, sent["person_id"]).has_sms_opt_out


def test_a_reply_lands_on_the_timeline_and_creates_a_callback(client, app, sent):
    params = {"MessageSid": "SMreply1", "From": "+447700900001", "To": "+447700900000", "Body": "Call me after 5"}
    signed_post(client, app, "/twilio/sms/inbound", params)
    signed_post(client, app, "/twilio/sms/inbound", params)  # Twilio retried: still one
    with app.app_context():
        replies = db.session.scalars(select(Message).where(Message.direction == "inbound")).all()
        assert [(m.person_id, m.status, m.body) for m in replies] == [(sent["person_id"], "received", "Call me after 5")]
        callbacks = db.session.scalars(select(WorkItem).where(WorkItem.kind == "callback")).all()
        assert [(c.person_id, c.band) for c in callbacks] == [(sent["person_id"], 1)]


def test_help_is_logged_without_a_callback(client, app, sent):
    signed_post(client, app, "/twilio/sms/inbound", {"MessageSid": "SMhelp", "From": "+447700900001", "Body": "HELP"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.kind == "callback")) == 0
        assert "help" in db.session.scalars(select(Message).where(Message.twilio_sid == "SMhelp")).one().error_message


def test_unknown_number_goes_to_unmatched_and_a_supervisor_attaches_it(client, app, sent, make_user):
    from tests.conftest import sign_in

    signed_post(client, app, "/twilio/sms/inbound", {"MessageSid": "SMwho", "From": "+447700900777", "Body": "Who is this?"})
    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.twilio_sid == "SMwho")).one()
        assert message.person_id is None
        from tts.cases.models import Case

        reference = db.session.scalars(select(Case.reference)).one()
    sign_in(client, make_user("supervisor"))
    page = client.get("/messages/unmatched").get_data(as_text=True)
    assert "Who is this?" in page
    bad = client.post("/messages/unmatched", data={"message_id": message.id, "reference": "TTS-NOPE1"})
    assert "No case has that reference" in bad.get_data(as_text=True)
    client.post("/messages/unmatched", data={"message_id": message.id, "reference": reference.lower()})
    with app.app_context():
        assert db.session.get(Message, message.id).person_id == sent["person_id"]
        assert db.session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.kind == "callback")) == 1


def test_voice_callbacks_apply_in_sequence_order_and_bridge_dials_the_person(client, app, sent):
    with app.app_context():
        tracer = UserFactory(role="tracer", phone="+447700900950")
        item = db.session.scalars(select(WorkItem)).first()
        claim_next(tracer)
        call = PhoneCall(work_item_id=item.id, person_id=item.person_id, tracer_id=tracer.id,
                         twilio_sid="CAtest1", status="queued")
        db.session.add(call)
        db.session.commit()
        call_id = call.id
    post = lambda status, seq, **extra: signed_post(client, app, "/twilio/voice/status", {  # noqa: E731
        "CallSid": "CAtest1", "CallStatus": status, "SequenceNumber": str(seq), **extra})
    post("initiated", 0)
    post("completed", 3, CallDuration="95")
    post("ringing", 1)  # late: ignored
    post("completed", 3, CallDuration="95")  # repeat: ignored
    with app.app_context():
        call = db.session.get(PhoneCall, call_id)
        assert (call.status, call.duration_seconds, call.last_sequence) == ("completed", 95, 3)
    app.config["TWILIO_CALLER_ID"] = "+441144960000"
    try:
        twiml = signed_post(client, app, f"/twilio/voice/bridge?call={call_id}", {"CallSid": "CAtest1"})
    finally:
        app.config["TWILIO_CALLER_ID"] = None
    assert twiml.status_code == 200 and twiml.content_type.startswith("text/xml")
    body = twiml.get_data(as_text=True)
    assert '<Dial callerId="+441144960000"><Number>+447700900001</Number></Dial>' in body
    assert "+447700900950" not in body  # the tracer's own number is never handed to the person
    wrong = signed_post(client, app, f"/twilio/voice/bridge?call={call_id}", {"CallSid": "CAother"})
    assert "<Hangup" in wrong.get_data(as_text=True) and "<Number>" not in wrong.get_data(as_text=True)


def test_inbound_without_a_sid_does_not_break_the_next_one(client, app, sent):
    for body in ("first", "second"):
        response = signed_post(client, app, "/twilio/sms/inbound", {"MessageSid": "", "From": "+447700900001",
                                                                    "Body": body})
        assert response.status_code == 200


# --- The class: no key in the source ever verifies a webhook outside development and tests ---------------


def test_a_production_server_without_twilio_settings_refuses_to_start():
    from tts import create_app

    with pytest.raises(RuntimeError, match="TTS_SIMULATED_TWILIO=1"):
        create_app("production", SECRET_KEY="x" * 32, SQLALCHEMY_DATABASE_URI="sqlite://")
    with pytest.raises(RuntimeError, match="TWILIO_AUTH_TOKEN"):
        create_app("production", SECRET_KEY="x" * 32, SQLALCHEMY_DATABASE_URI="sqlite://",
                   TWILIO_ACCOUNT_SID="AC" + "1" * 32)


@pytest.mark.no_rollback
def test_explicitly_simulated_production_refuses_webhooks_signed_with_the_development_key(fresh_database_url, caplog):
    import flask_migrate

    from tests.conftest import MIGRATIONS
    from tts import create_app
    from tts.telephony import simulator

    with caplog.at_level("WARNING"):
        app = create_app("production", SECRET_KEY="s" * 40, TTS_SIMULATED_TWILIO=True,
                         SQLALCHEMY_DATABASE_URI=fresh_database_url("prodsim"))
    assert "SIMULATED TWILIO" in caplog.text  # said loudly at start-up
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=MIGRATIONS)
        client = app.test_client()
        params = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}
        for path in ("/twilio/sms/status", "/twilio/sms/inbound", "/twilio/voice/status", "/twilio/voice/bridge"):
            assert signed_post(client, app, path, params).status_code == 403, path  # the key in the source
        with app.app_context():
            assert simulator.message_status("SM" + "9" * 32, "delivered") == 204  # the app's own derived key
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_no_key_at_all_refuses_every_webhook(client, app):
    app.config["TTS_SIMULATED_TWILIO"] = False
    try:
        params = {"MessageSid": "SM" + "8" * 32, "MessageStatus": "delivered"}
        for path in ("/twilio/sms/status", "/twilio/sms/inbound", "/twilio/voice/status", "/twilio/voice/bridge"):
            assert signed_post(client, app, path, params).status_code == 403, path
    finally:
        app.config["TTS_SIMULATED_TWILIO"] = True


# --- Replies on a number several people share --------------------------------------------------------------


def _reply(client, app, sid: str, number: str, body: str) -> Message:
    signed_post(client, app, "/twilio/sms/inbound", {"MessageSid": sid, "From": number, "Body": body})
    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.twilio_sid == sid)).one()
        db.session.expunge(message)
        return message


def test_a_contact_typed_with_someone_elses_number_never_receives_their_replies(client, app, make_user, daytime):
    """A tracer adds a contact with another person's number: the owner's replies do not land on the new
    record (so its creator cannot read them); they go to supervisors, who see everyone on the number."""
    from tests.conftest import sign_in
    from tts.auth.models import User
    from tts.cases.services import add_contact

    owner_tracer, snoop = make_user("tracer"), make_user("tracer")
    with app.app_context():
        victim_case = create_case(db.session.get(User, owner_tracer["id"]),
                                  person_data(71, first_name="Vera", last_name="Quillon", phone="07700 900871",
                                              address="1 True Lane", postcode="S7 1AA"),
                                  test_date=today(), symptom_onset_date=None)
        own_case = create_case(db.session.get(User, snoop["id"]),
                               person_data(72, first_name="Sid", last_name="Moorcroft", address="9 Far Road",
                                           postcode="S10 2TN"), test_date=today(), symptom_onset_date=None)
        planted = add_contact(db.session.get(User, snoop["id"]), own_case,
                              person_data(73, first_name="Pat", last_name="Planted", phone="07700 900871",
                                          address="3 Other Street", postcode="S6 3BB"),
                              relationship="close", last_exposure_date=today())
        queue_sms(None, planted.person, "introduction", contact=planted)  # the newest text to the number is his
        db.session.commit()
        planted_person, victim_person = planted.person_id, victim_case.person_id
    message = _reply(client, app, "SMvera", "+447700900871", "Vera here, my appointment moved")
    assert message.person_id is None  # neither the newest person on the number nor the newest texted
    with app.app_context():
        callbacks = db.session.scalars(select(WorkItem.person_id).where(WorkItem.kind == "callback")).all()
        assert planted_person not in callbacks and victim_person not in callbacks
    snooper = app.test_client()
    sign_in(snooper, snoop)
    assert "appointment moved" not in snooper.get(f"/people/{planted_person}").get_data(as_text=True)
    supervisor = app.test_client()
    sign_in(supervisor, make_user("supervisor"))
    page = supervisor.get("/messages/unmatched").get_data(as_text=True)
    assert "appointment moved" in page and "Vera Quillon" in page and "Pat Planted" in page


def test_a_family_sharing_one_phone_gets_replies_on_the_member_last_texted(client, app, daytime):
    from tts.cases.services import add_contact

    with app.app_context():
        case = create_case(None, person_data(74, first_name="Hana", last_name="Thimble", phone="07700 900874",
                                             address="12 Shared Road", postcode="S11 8YA"),
                           test_date=today(), symptom_onset_date=None)
        child = add_contact(None, case, person_data(75, first_name="Tom", last_name="Thimble", phone="07700 900874"),
                            relationship="household", last_exposure_date=today())
        queue_sms(None, child.person, "introduction", contact=child)
        db.session.commit()
        child_person = child.person_id
    message = _reply(client, app, "SMfamily", "+447700900874", "Tom is asleep, call after 4")
    assert message.person_id == child_person
