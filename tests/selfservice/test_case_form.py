"""A case completes their own details online from the link in their introduction text: the same services
as a tracer's entries, marked self-reported, audited as self-service."""
from datetime import timedelta

from sqlalchemy import select

from tests.selfservice.conftest import dob_form
from tts.audit.models import AuditEvent
from tts.callqueue.models import WorkItem
from tts.cases.models import Case, Contact
from tts.clock import today
from tts.extensions import db
from tts.people.models import Note, Person
from tts.selfservice.models import SelfServiceLink
from tts.support.models import SupportNeed
from tts.telephony.models import Message


def answer_everything(client, token, *, when=None):
    when = when or today()
    steps = [
        (f"/s/{token}/verify", None),  # done by the caller
        (f"/s/{token}/language", {"language": "pl"}),
        (f"/s/{token}/symptoms", {"symptoms": "yes"}),
        (f"/s/{token}/onset", {"onset_date-day": str((when - timedelta(days=1)).day),
                               "onset_date-month": str((when - timedelta(days=1)).month),
                               "onset_date-year": str((when - timedelta(days=1)).year)}),
        (f"/s/{token}/household/add", {"first_name": "Wren", "last_name": "Oakes", "phone": "07700 900301"}),
        (f"/s/{token}/household", {"add": "no"}),
        (f"/s/{token}/contacts/add", {"first_name": "Tam", "last_name": "Fielding", "phone": "07700 900302",
                                      "last_contact-day": str(when.day), "last_contact-month": str(when.month),
                                      "last_contact-year": str(when.year)}),
        (f"/s/{token}/contacts", {"add": "no"}),
        (f"/s/{token}/places", {"places": "Tinsley Pallets Ltd, Attercliffe"}),
        (f"/s/{token}/support", {"support": ["food", "medicine"], "support_detail": "Gluten-free bread"}),
    ]
    for url, data in steps[1:]:
        response = client.post(url, data=data)
        assert response.status_code == 302, (url, response.get_data(as_text=True)[:3000])
    check = client.get(f"/s/{token}/check")
    assert check.status_code == 200
    return check


def test_the_introduction_text_carries_a_personal_link_stored_only_hashed(app, texted_case):
    token, ids = texted_case
    assert len(token) >= 32  # 192 bits in URL-safe base64
    with app.app_context():
        link = db.session.scalar(select(SelfServiceLink).where(SelfServiceLink.case_id == ids["case_id"]))
        assert link.token_hash != token and token not in (link.token_hash,)
        assert link.expires_at - link.created_at == timedelta(hours=48)
        assert link.status == "not_started"


def test_a_case_completes_the_form_and_it_goes_through_the_services(app, client, texted_case):
    token, ids = texted_case
    start = client.get(f"/s/{token}")
    assert start.status_code == 200 and "Start now" in start.get_data(as_text=True)
    assert start.headers["Cache-Control"] == "no-store" and start.headers["Referrer-Policy"] == "no-referrer"
    # Nothing personal before the date of birth: the question pages send the browser back to it.
    assert client.get(f"/s/{token}/check").headers["Location"].endswith(f"/s/{token}/verify")
    verified = client.post(f"/s/{token}/verify", data=dob_form(ids["dob"]))
    assert verified.status_code == 302 and verified.headers["Location"].endswith("/language")
    check = answer_everything(client, token)
    page = check.get_data(as_text=True)
    assert "Wren Oakes" in page and "Tam Fielding" in page and "Polish" in page
    done = client.post(f"/s/{token}/check")
    assert done.status_code == 302 and done.headers["Location"].endswith("/done")
    confirmation = client.get(done.headers["Location"])
    with app.app_context():
        case = db.session.get(Case, ids["case_id"])
        assert f"{case.isolation_end_date:%-d %B %Y}" in confirmation.get_data(as_text=True)
        assert case.symptom_onset_date == today() - timedelta(days=1)
        contacts = db.session.scalars(select(Contact).where(Contact.case_id == case.id).order_by(Contact.id)).all()
        assert [(c.person.first_name, c.relationship_, c.source) for c in contacts] == [
            ("Wren", "household", "self_service"), ("Tam", "close", "self_service")]
        assert contacts[0].person.household_id == case.person.household_id  # the household rule
        queued = db.session.scalars(select(WorkItem.person_id).where(WorkItem.contact_id.in_([c.id for c in contacts]))).all()
        assert sorted(queued) == sorted(c.person_id for c in contacts)  # in the queue
        advice = db.session.scalars(select(Message.trigger).where(Message.person_id.in_(queued))).all()
        assert advice == ["contact_advice", "contact_advice"]  # and texted, each with their own link
        assert db.session.get(Person, ids["person_id"]).language == "pl"
        assert sorted(db.session.scalars(select(SupportNeed.kind).where(SupportNeed.person_id == ids["person_id"]))) == [
            "food", "medicine"]
        note = db.session.scalar(select(Note.text).where(Note.case_id == case.id))
        assert "Tinsley Pallets" in note and note.startswith("Self-reported online")
        events = db.session.execute(select(AuditEvent.action, AuditEvent.via, AuditEvent.actor_id)
                                    .where(AuditEvent.action.in_(("contact.create", "self_service.complete")))).all()
        assert {(a, v, u) for a, v, u in events} == {("contact.create", "self", None),
                                                      ("self_service.complete", "self", None)}
        link = db.session.scalar(select(SelfServiceLink).where(SelfServiceLink.case_id == case.id))
        assert link.status == "completed" and link.completed_at is not None
    # The link is spent: its pages now answer the same 404 as any unknown link, except the confirmation.
    assert client.get(f"/s/{token}/symptoms").status_code == 404
    assert client.get(f"/s/{token}/done").status_code == 200
    assert app.test_client().get(f"/s/{token}/done").status_code == 404


def test_a_wrong_date_of_birth_counts_down_then_locks_the_link_and_tells_the_team(app, client, texted_case):
    from tts.selfservice.models import TeamAlert

    token, ids = texted_case
    wrong = dob_form(ids["dob"] - timedelta(days=1))
    first = client.post(f"/s/{token}/verify", data=wrong)
    assert first.status_code == 400 and "4 more tries" in first.get_data(as_text=True)
    for _ in range(3):
        client.post(f"/s/{token}/verify", data=wrong)
    locked = client.post(f"/s/{token}/verify", data=wrong)
    assert locked.status_code == 403 and "locked this link" in locked.get_data(as_text=True)
    # Now even the right date gets nowhere, and the page says nothing of why.
    assert client.post(f"/s/{token}/verify", data=dob_form(ids["dob"])).status_code == 404
    with app.app_context():
        link = db.session.scalar(select(SelfServiceLink).where(SelfServiceLink.case_id == ids["case_id"]))
        assert link.status == "locked" and link.failed_attempts == 5
        alert = db.session.scalar(select(TeamAlert).where(TeamAlert.person_id == ids["person_id"]))
        assert alert.kind == "link_locked"


def test_an_unknown_or_expired_link_is_the_same_404_with_the_teams_number(app, client, texted_case, daytime):
    token, _ = texted_case
    unknown = client.get("/s/" + "A" * 32)
    assert unknown.status_code == 404 and "0114 496 0000" in unknown.get_data(as_text=True)
    daytime.shift(timedelta(hours=49))
    expired = client.get(f"/s/{token}")
    assert expired.status_code == 404
    assert expired.get_data(as_text=True) == unknown.get_data(as_text=True).replace(
        unknown.get_data(as_text=True), expired.get_data(as_text=True))  # same template
    assert "This link does not work" in expired.get_data(as_text=True)


def test_guessing_links_from_one_address_is_slowed(app, client):
    for n in range(20):
        assert client.get(f"/s/guess{n:027d}").status_code == 404
    blocked = client.get("/s/guess-twenty-one-xxxxxxxxxxxxxxxx")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_a_person_added_wrongly_is_refused_on_its_page_naming_the_field(app, client, texted_case):
    token, ids = texted_case
    client.post(f"/s/{token}/verify", data=dob_form(ids["dob"]))
    future = today() + timedelta(days=3)
    response = client.post(f"/s/{token}/contacts/add", data={
        "first_name": "", "last_name": "Fielding", "phone": "12345",
        "last_contact-day": str(future.day), "last_contact-month": str(future.month), "last_contact-year": str(future.year)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "There is a problem" in page
    assert 'href="#first_name"' in page and 'href="#last_contact-day"' in page and 'href="#phone"' in page
    with app.app_context():
        link = db.session.scalar(select(SelfServiceLink).where(SelfServiceLink.case_id == ids["case_id"]))
        assert not (link.answers or {}).get("contacts")


def test_a_first_call_held_for_the_form_is_due_once_the_form_is_in(app, client, ctx, daytime):
    from tests.factories import person_data
    from tests.selfservice.conftest import link_texted_to
    from tts.callqueue.services import _held_for_self_service
    from tts.cases.services import create_case
    from tts.clock import utcnow

    app.config["TTS_SELF_SERVICE_HOLD_HOURS"] = 4
    try:
        with ctx():
            case = create_case(None, person_data(14), test_date=today(), symptom_onset_date=None)
            db.session.flush()
            assert db.session.scalar(select(WorkItem.due_at).where(WorkItem.case_id == case.id)) == \
                utcnow() + timedelta(hours=4)
            token, dob, case_id = link_texted_to(case.person_id, "introduction"), case.person.date_of_birth, case.id
            # Never held: someone flagged vulnerable, or whom the text cannot reach.
            assert _held_for_self_service(Person(first_name="A", last_name="B", phone="+447700900141",
                                                 is_vulnerable=True)) is None
            assert _held_for_self_service(Person(first_name="A", last_name="B", phone="+441144960141",
                                                 is_vulnerable=False, has_sms_opt_out=False)) is None
        client.post(f"/s/{token}/verify", data=dob_form(dob))
        answer_everything(client, token)
        assert client.post(f"/s/{token}/check").status_code == 302
        with ctx():
            assert db.session.scalar(select(WorkItem.due_at).where(WorkItem.case_id == case_id)) == utcnow()
    finally:
        app.config["TTS_SELF_SERVICE_HOLD_HOURS"] = 0
