"""Working the queue in the web app: My work, Next, the call screen, outcomes, release, heartbeat."""
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import sign_in
from tests.factories import person_data
from tts.audit.models import AuditEvent
from tts.callqueue.models import WorkItem
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db


@pytest.fixture
def household(ctx, daytime):
    with ctx():
        case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        add_contact(None, case, person_data(2, address=None, postcode=None, first_name="Sam", last_name="Taylor"),
                    relationship="household", last_exposure_date=today())
        db.session.flush()
        return {"case_id": case.id, "reference": case.reference,
                "case_item": db.session.scalar(select(WorkItem.id).where(WorkItem.case_id == case.id))}


def outcome(item_id, value, **extra):
    return {f"i{item_id}-outcome": value, f"i{item_id}-notes": extra.pop("notes", ""),
            **{f"i{item_id}-{k}": v for k, v in extra.items()}}


def test_next_opens_the_call_screen_with_household_on_the_same_call(app, tracer_client, household):
    response = tracer_client.post("/queue/next")
    assert response.headers["Location"] == f"/queue/items/{household['case_item']}"
    html = tracer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Call Bram Kestrel" in html and "Also on this call" in html and "Sam Taylor" in html
    assert "Ask who they live with" in html  # the case script
    assert "Add a contact" in html and "heartbeat" in html
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.view",
                                                          AuditEvent.details["for"].as_string() == "call"))


def test_record_outcomes_for_everyone_on_the_call(app, tracer_client, household):
    item_id = household["case_item"]
    tracer_client.post("/queue/next")
    with app.app_context():
        member_item = db.session.scalar(select(WorkItem.id).where(WorkItem.id != item_id, WorkItem.contact_id.is_not(None)))
    response = tracer_client.post(f"/queue/items/{member_item}/attempts", data=outcome(member_item, "no_answer"),
                                  follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Call with Sam Taylor recorded: no answer. Next attempt after 12:00." in html
    assert "Call Bram Kestrel" in html  # back to the person still held
    response = tracer_client.post(f"/queue/items/{item_id}/attempts", data={**outcome(item_id, "reached"), "then": "next"},
                                  follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Call with Bram Kestrel recorded: reached." in html
    assert "Nobody is waiting to be called right now" in html, re.findall(r"banner__heading\">([^<]*)", html)
    my_work = tracer_client.get("/queue/").get_data(as_text=True)
    assert "2 calls, 1 reached" in my_work


def test_one_outcome_for_everyone_on_the_call_from_the_call_screen(app, tracer_client, household):
    item_id = household["case_item"]
    tracer_client.post("/queue/next")
    with app.app_context():
        member_item, token = db.session.execute(select(WorkItem.id, WorkItem.claim_token).where(
            WorkItem.id != item_id, WorkItem.contact_id.is_not(None))).one()
        case_token = db.session.get(WorkItem, item_id).claim_token
    html = tracer_client.get(f"/queue/items/{item_id}").get_data(as_text=True)
    assert "record it for everyone on this call" in html
    assert f'name="token-{member_item}" value="{token}"' in html
    url = f"/queue/items/{item_id}/call-outcome"
    tokens = {f"token-{item_id}": case_token, f"token-{member_item}": token}
    # Nothing chosen: the call screen again, both problems listed, nothing written.
    html = tracer_client.post(url, data=tokens).get_data(as_text=True)
    assert "The outcome for this call was not saved" in html
    assert "Choose who was on the call" in html and "Choose what happened on the call" in html
    # "Reached" is not offered for a whole call: each conversation is recorded on its own.
    html = tracer_client.post(url, data={**tokens, "items": [item_id], "outcome": "reached"}).get_data(as_text=True)
    assert "Choose what happened on the call" in html
    response = tracer_client.post(url, data={**tokens, "items": [item_id, member_item], "outcome": "voicemail",
                                             "notes": "Left one message for both"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Call recorded for Bram Kestrel and Sam Taylor: went to voicemail." in html
    with app.app_context():
        items = db.session.scalars(select(WorkItem).where(WorkItem.id.in_([item_id, member_item]))).all()
        assert {(i.status, i.attempts, i.claimed_by_id) for i in items} == {("open", 1, None)}
        assert {a.notes for i in items for a in i.call_attempts} == {"Left one message for both"}
    # The claims are gone: the same form again changes nothing.
    again = tracer_client.post(url, data={**tokens, "items": [item_id, member_item], "outcome": "busy"},
                               follow_redirects=True)
    assert "no longer yours to call" in again.get_data(as_text=True)


def test_callback_form_needs_a_date_and_time(tracer_client, household):
    item_id = household["case_item"]
    tracer_client.post("/queue/next")
    response = tracer_client.post(f"/queue/items/{item_id}/attempts",
                                  data=outcome(item_id, "callback_requested", **{"callback_time": "half past"}),
                                  follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<title>Error: Call Bram Kestrel" in html
    assert "The outcome for Bram Kestrel was not saved" in html
    # The summary links to the field, the field says what is wrong, and the answers given are kept.
    assert re.search(r'<a href="#i%d-callback_date-day">[^<]+</a>' % item_id, html)
    assert 'id="i%d-callback_date-error"' % item_id in html
    assert re.search(r'value="callback_requested"\s+checked', html)
    assert 'value="half past"' in html
    response = tracer_client.post(f"/queue/items/{item_id}/attempts", data=outcome(
        item_id, "callback_requested", callback_time="half past",
        **{"callback_date-day": "23", "callback_date-month": "11", "callback_date-year": "2026"}))
    assert 'id="i%d-callback_time-error"' % item_id in response.get_data(as_text=True)
    response = tracer_client.post(f"/queue/items/{item_id}/attempts", data=outcome(item_id, None))
    html = response.get_data(as_text=True)
    assert re.search(r'<a href="#i%d-outcome-reached">Choose what happened on the call</a>' % item_id, html)
    assert "govuk-form-group--error" in html
    response = tracer_client.post(f"/queue/items/{item_id}/attempts", follow_redirects=True, data=outcome(
        item_id, "callback_requested", callback_time="4:15pm",
        **{"callback_date-day": "23", "callback_date-month": "11", "callback_date-year": "2026"}))
    html = response.get_data(as_text=True)
    assert "Callback booked for 16:15, assigned to you." in html


def test_release_and_claim_a_specific_item(app, client, make_user, household):
    from tests.conftest import sign_in

    item_id = household["case_item"]
    first, second = make_user("tracer"), make_user("tracer")
    sign_in(client, first)
    client.post("/queue/next")
    client.post("/logout")
    sign_in(client, second)
    assert client.get(f"/queue/items/{item_id}").status_code == 403  # not on their work: find them first
    client.post("/search", data={"reference": household["reference"]})
    page = client.get(f"/queue/items/{item_id}").get_data(as_text=True)
    assert "is calling Bram now" in page and "Record the outcome" not in page
    refused = client.post(f"/queue/items/{item_id}/claim", follow_redirects=True).get_data(as_text=True)
    assert "being called by another tracer" in refused
    client.post("/logout")
    sign_in(client, first)
    assert "back in the queue" in client.post(f"/queue/items/{item_id}/release", follow_redirects=True).get_data(as_text=True)
    client.post("/logout")
    sign_in(client, second)
    assert client.post(f"/queue/items/{item_id}/claim").status_code == 403  # a new session: find them again
    client.post("/search", data={"reference": household["reference"]})
    page = client.post(f"/queue/items/{item_id}/claim", follow_redirects=True).get_data(as_text=True)
    assert "Record the outcome" in page


def test_heartbeat_extends_claims(tracer_client, household, daytime):
    from datetime import timedelta

    tracer_client.post("/queue/next")
    daytime.shift(timedelta(minutes=10))
    assert tracer_client.post("/queue/heartbeat").json == {"extended": 2}


def test_outside_hours_next_says_when_calling_resumes(client, make_user, household):
    with time_machine.travel(datetime(2026, 11, 23, 21, 0, tzinfo=UTC), tick=False):
        sign_in(client, make_user("tracer"))  # an evening sign-in: a morning session would have timed out
        html = client.post("/queue/next", follow_redirects=True).get_data(as_text=True)
    assert "Calling resumes at 08:00 on 24 November" in html


def test_sweep_command(app, household, daytime):
    from datetime import timedelta

    daytime.shift(timedelta(hours=25))
    result = app.test_cli_runner().invoke(args=["queue", "sweep"])
    assert result.exit_code == 0 and "Escalated 2 overdue item(s)" in result.output


def test_adding_a_contact_from_the_call_returns_to_it(tracer_client, household):
    item_id = household["case_item"]
    tracer_client.post("/queue/next")
    form = tracer_client.get(f"/cases/{household['case_id']}/contacts/new?return_to={item_id}").get_data(as_text=True)
    assert "Back to the call" in form
    response = tracer_client.post(f"/cases/{household['case_id']}/contacts/new?return_to={item_id}", data={
        "relationship": "close", "first_name": "Gale", "last_name": "Thimble", "phone": "0114 496 0321",
        "last_exposure_date-day": "22", "last_exposure_date-month": "11", "last_exposure_date-year": "2026"})
    assert response.headers["Location"] == f"/queue/items/{item_id}"


def test_the_call_screen_shows_earlier_calls_and_the_contacts_named_and_the_contact_form_keeps_the_script(
        app, tracer_client, household):
    item_id = household["case_item"]
    tracer_client.post("/queue/next")
    first = tracer_client.get(f"/queue/items/{item_id}").get_data(as_text=True)
    assert "This is the first call" in first
    assert 'data-testid="named-contacts"' in first and "Sam Taylor: household" in first
    tracer_client.post(f"/queue/items/{item_id}/attempts", data=outcome(item_id, "no_answer", notes="Rang out twice"))
    with app.app_context():
        later = db.session.scalar(select(WorkItem).where(WorkItem.case_id == household["case_id"],
                                                         WorkItem.id != item_id))
        later_id = later.id if later is not None else item_id
    tracer_client.post(f"/queue/items/{later_id}/claim")
    again = tracer_client.get(f"/queue/items/{later_id}").get_data(as_text=True)
    assert 'data-testid="earlier-calls"' in again and "no answer. <span class=\"tts-prewrap\">Rang out twice" in again
    form = tracer_client.get(f"/cases/{household['case_id']}/contacts/new?return_to={later_id}").get_data(as_text=True)
    assert "The call's script" in form and "Ask who they live with" in form and "Named so far: Sam Taylor" in form


def test_call_next_resumes_what_the_tracer_holds_before_claiming_anyone_new(app, tracer_client, household, ctx):
    with ctx():
        create_case(None, person_data(7, first_name="Nell", last_name="Orrin", address="7 Other Way"),
                    test_date=today(), symptom_onset_date=None)
    first = tracer_client.post("/queue/next")
    again = tracer_client.post("/queue/next", follow_redirects=False)
    assert again.headers["Location"] == first.headers["Location"]  # back to the call they hold
    page = tracer_client.get(again.headers["Location"]).get_data(as_text=True)
    assert "You still hold the call with Bram Kestrel" in page
    with app.app_context():
        held = db.session.scalar(select(db.func.count()).select_from(WorkItem).where(WorkItem.status == "claimed"))
        assert held == 2  # the case and their household: nobody new was claimed


def test_my_work_counts_only_the_calls_this_tracer_could_take(app, tracer_client, household, make_user, ctx):
    other = make_user("tracer")
    with ctx():
        db.session.execute(db.update(WorkItem).values(assignee_id=other["id"]))
    page = tracer_client.get("/queue/").get_data(as_text=True)
    assert re.search(r'data-testid="waiting"><strong>0</strong>', page)  # all given to someone else
    response = tracer_client.post("/queue/next", follow_redirects=True).get_data(as_text=True)
    assert "Nobody is waiting to be called right now" in response
