"""Masked calls (the exact SDK request), simulated calls, templates with preview and segment counts."""
import pytest
from sqlalchemy import select

from tests.conftest import sign_in
from tests.factories import person_data
from tts.callqueue.models import CallAttempt, WorkItem
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.telephony.models import PhoneCall
from tts.telephony.templates import segments


@pytest.fixture
def case_item(ctx, daytime):
    with ctx():
        case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        return db.session.scalar(select(WorkItem.id).where(WorkItem.case_id == case.id))


@pytest.fixture
def tracer_with_phone(client, make_user, ctx):
    user = make_user("tracer")
    from tts.auth.models import User

    with ctx():
        db.session.get(User, user["id"]).phone = "+447700900950"
    sign_in(client, user)
    return client


def test_masked_call_rings_the_tracer_and_bridges_with_the_team_number(app, tracer_with_phone, case_item,
                                                                       fake_twilio):
    client = tracer_with_phone
    client.post("/queue/next")
    response = client.post(f"/queue/items/{case_item}/call", follow_redirects=True)
    assert "Your phone will ring now" in response.get_data(as_text=True)
    (request,) = fake_twilio.posts("/Calls.json")
    with app.app_context():
        call = db.session.scalars(select(PhoneCall)).one()
    assert request["data"] == {
        "To": "+447700900950", "From": "+441144960000",
        "Url": f"http://127.0.0.1:5000/twilio/voice/bridge?call={call.id}", "Method": "POST",
        "StatusCallback": "http://127.0.0.1:5000/twilio/voice/status", "StatusCallbackMethod": "POST",
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"]}
    assert call.twilio_sid.startswith("CA") and call.status == "queued"


def test_the_browser_sends_only_the_item_and_must_hold_the_claim(app, client, make_user, case_item, fake_twilio):
    sign_in(client, make_user("tracer", phone="+447700900951"))
    response = client.post(f"/queue/items/{case_item}/call", data={"to": "+447700900123"}, follow_redirects=True)
    assert "You no longer hold this call" in response.get_data(as_text=True)
    assert fake_twilio.requests == []


def test_tracer_without_a_phone_is_told_to_add_one(tracer_client, case_item):
    tracer_client.post("/queue/next")
    response = tracer_client.post(f"/queue/items/{case_item}/call", follow_redirects=True)
    assert "Add your phone number in Your details first" in response.get_data(as_text=True)


def test_simulated_call_records_sid_status_and_duration_on_the_attempt(app, tracer_with_phone, case_item):
    client = tracer_with_phone
    client.post("/queue/next")
    page = client.post(f"/queue/items/{case_item}/call", follow_redirects=True).get_data(as_text=True)
    assert "Simulated call to Bram made and finished" in page
    client.post(f"/queue/items/{case_item}/attempts", data={f"i{case_item}-outcome": "reached"})
    with app.app_context():
        attempt = db.session.scalars(select(CallAttempt)).one()
        call = db.session.scalars(select(PhoneCall)).one()
        assert attempt.twilio_call_sid == call.twilio_sid
        assert (attempt.call_status, attempt.duration_seconds) == ("completed", 127)


def test_segments_count_gsm7_and_ucs2():
    assert segments("a" * 160) == ("GSM-7", 1)
    assert segments("a" * 161) == ("GSM-7", 2)
    assert segments("a" * 306) == ("GSM-7", 2)
    assert segments("a" * 307) == ("GSM-7", 3)
    assert segments("€" * 80) == ("GSM-7", 1)  # extension characters take two septets
    assert segments("€" * 81) == ("GSM-7", 2)
    assert segments("Stay home \u2019til Friday") == ("UCS-2", 1)  # a curly apostrophe switches encoding
    assert segments("x" * 71 + "\u2019") == ("UCS-2", 2)
    assert segments("\U0001F600" * 35) == ("UCS-2", 1)  # an emoji is two UTF-16 units
    assert segments("\U0001F600" * 36) == ("UCS-2", 2)


def test_admin_edits_a_template_with_preview_and_checks(app, admin_client):
    page = admin_client.get("/admin/templates/").get_data(as_text=True)
    assert "Introduction before the first call" in page and "1 × GSM-7" in page
    from tts.telephony.models import MessageTemplate

    with app.app_context():
        template_id = db.session.scalar(select(MessageTemplate.id).where(MessageTemplate.trigger == "missed_call"))
    preview = admin_client.post("/admin/templates/preview", json={"body": "Hi {first_name}, call {team_phone} \u2019"})
    assert preview.json["text"] == "Hi Sam, call 0114 496 0000 \u2019" and preview.json["encoding"] == "UCS-2"
    bad = admin_client.post(f"/admin/templates/{template_id}", data={"body": "Hi {name}", "is_enabled": "y"})
    assert bad.status_code == 400 and "Unknown placeholder {name}" in bad.get_data(as_text=True)
    ok = admin_client.post(f"/admin/templates/{template_id}", data={"body": "Sorry we missed you, {first_name}."})
    assert ok.status_code == 302
    with app.app_context():
        template = db.session.get(MessageTemplate, template_id)
        assert template.body == "Sorry we missed you, {first_name}." and template.is_enabled is False


@pytest.mark.parametrize("trigger", ["introduction", "contact_advice"])
def test_the_texts_that_carry_a_personal_link_keep_it(app, admin_client, trigger):
    from tts.telephony.models import MessageTemplate

    with app.app_context():
        template_id = db.session.scalar(select(MessageTemplate.id).where(MessageTemplate.trigger == trigger))
    bad = admin_client.post(f"/admin/templates/{template_id}", data={"body": "Hello {first_name}", "is_enabled": "y"})
    assert bad.status_code == 400 and "Keep {link} in this message" in bad.get_data(as_text=True)
    ok = admin_client.post(f"/admin/templates/{template_id}", data={"body": "Hello {first_name}: {link}", "is_enabled": "y"})
    assert ok.status_code == 302


def test_tracers_cannot_edit_templates(tracer_client):
    assert tracer_client.get("/admin/templates/").status_code == 403


def test_api_lists_a_persons_messages(client, api_token, ctx, daytime):
    headers, _ = api_token("supervisor")
    with ctx():
        case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        person_id = case.person_id
    response = client.get(f"/api/v1/people/{person_id}/messages", headers=headers)
    assert response.status_code == 200
    (message,) = response.json
    assert set(message) >= {"id", "direction", "status", "body", "twilio_sid", "error_code", "created_at"}
    assert (message["direction"], message["status"]) == ("outbound", "queued")
    assert client.get(f"/api/v1/people/{person_id}", headers=headers).json["sms_opt_out"] is False
