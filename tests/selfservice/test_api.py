"""The API contract of self-service: a case's `self_service`, a contact's `source` and `reached_by`, a
person's `language`, `checkins` and `support_needs`, and the non-responders list."""
from datetime import timedelta

from sqlalchemy import select

from tests.factories import person_data
from tests.selfservice.conftest import dob_form, link_texted_to
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db
from tts.selfservice.links import find_link
from tts.selfservice.models import CheckIn
from tts.selfservice.services import contact_respond


def test_a_cases_self_service_status_moves_with_the_link(app, client, ctx, api_token, texted_case, daytime):
    headers, _ = api_token("supervisor")
    token, ids = texted_case
    status = lambda: client.get(f"/api/v1/cases/{ids['case_id']}", headers=headers).json["self_service"]  # noqa: E731
    assert status() == {"status": "not_started", "completed_at": None}
    public = app.test_client()
    public.post(f"/s/{token}/verify", data=dob_form(ids["dob"]))
    assert status()["status"] == "started"
    for path, data in ((f"/s/{token}/symptoms", {"symptoms": "no"}), (f"/s/{token}/household", {"add": "no"}),
                       (f"/s/{token}/contacts", {"add": "no"}), (f"/s/{token}/places", {"places": ""}),
                       (f"/s/{token}/support", {})):
        assert public.post(path, data=data).status_code == 302, path
    assert public.post(f"/s/{token}/check").status_code == 302
    done = status()
    assert done["status"] == "completed" and done["completed_at"].startswith(today().isoformat())


def test_expired_and_locked_are_reported(app, client, ctx, api_token, texted_case, daytime):
    headers, _ = api_token("supervisor")
    token, ids = texted_case
    daytime.shift(timedelta(hours=49))
    assert client.get(f"/api/v1/cases/{ids['case_id']}", headers=headers).json["self_service"]["status"] == "expired"
    with ctx():
        other = create_case(None, person_data(41), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        other_token, dob, other_id = link_texted_to(other.person_id, "introduction"), other.person.date_of_birth, other.id
    public = app.test_client()
    for _ in range(5):
        public.post(f"/s/{other_token}/verify", data=dob_form(dob - timedelta(days=3)))
    assert client.get(f"/api/v1/cases/{other_id}", headers=headers).json["self_service"]["status"] == "locked"


def test_contacts_say_who_named_them_and_how_they_were_reached(app, client, ctx, api_token, daytime):
    headers, _ = api_token("supervisor")
    with ctx():
        case = create_case(None, person_data(42), test_date=today(), symptom_onset_date=None)
        staff = add_contact(None, case, person_data(43), relationship="close", last_exposure_date=today())
        texted = add_contact(None, case, person_data(44), relationship="close", last_exposure_date=today())
        db.session.flush()
        contact_respond(find_link(link_texted_to(texted.person_id, "contact_advice")), "confirmed")
        case_id, staff_id, texted_id = case.id, staff.id, texted.id
    contacts = {c["id"]: c for c in client.get(f"/api/v1/cases/{case_id}", headers=headers).json["contacts"]}
    assert (contacts[staff_id]["source"], contacts[staff_id]["reached_by"]) == ("staff", None)
    assert (contacts[texted_id]["source"], contacts[texted_id]["reached_by"]) == ("staff", "text")


def test_a_person_answers_their_check_ins_and_support_needs(app, client, ctx, api_token, daytime):
    from tests.selfservice.test_checkins import reached_case, run_worker
    from tests.telephony.conftest import signed_post

    headers, _ = api_token("supervisor")
    with ctx():
        case = reached_case(45)
        run_worker(daytime, case, 2)
        person_id, phone = case.person_id, case.person.phone
    signed_post(client, app, "/twilio/sms/inbound", {"MessageSid": "SMapi3", "From": phone, "Body": "3"})
    body = client.get(f"/api/v1/people/{person_id}", headers=headers).json
    assert body["language"] is None
    assert [(c["day"], c["reply"]) for c in body["checkins"]] == [(2, "3"), (5, None), (8, None)]
    assert body["checkins"][0]["sent_at"] and body["checkins"][0]["replied_at"]
    assert [(n["kind"], n["urgency"]) for n in body["support_needs"]] == [("other", "today")]


def test_non_responders_for_supervisors(app, client, ctx, api_token, daytime):
    from tests.selfservice.test_checkins import reached_case, run_worker

    with ctx():
        case = reached_case(46)
        run_worker(daytime, case, 2)
        run_worker(daytime, case, 3, hour=10, minute=30)
        person_id = case.person_id
        assert db.session.scalar(select(CheckIn.missed_at).where(CheckIn.person_id == person_id, CheckIn.day == 2))
    supervisor, _ = api_token("supervisor")
    listed = client.get("/api/v1/checkins/non-responders", headers=supervisor)
    assert listed.status_code == 200
    [row] = [r for r in listed.json if r["person_id"] == person_id]
    assert row["missed_checkins"] == 1 and row["last_checkin"]["day"] == 2 and row["first_name"]
    tracer, _ = api_token("tracer")
    assert client.get("/api/v1/checkins/non-responders", headers=tracer).status_code == 403


def test_retention_removes_what_they_typed_online(app, ctx, texted_case):
    from tts.people.retention import _scrub_free_text
    from tts.selfservice.services import save_answers

    token, ids = texted_case
    with ctx():
        link = find_link(token)
        save_answers(link, places="Somewhere private", household=[{"first_name": "Wren", "last_name": "Oakes"}])
        _scrub_free_text([ids["person_id"]])
        db.session.refresh(link)
        assert link.answers is None
