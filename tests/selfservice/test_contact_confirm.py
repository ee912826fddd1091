"""A contact confirms their advice from the link in their advice text, asks for a call, or reports symptoms."""
import pytest
from sqlalchemy import select

from tests.factories import person_data
from tests.selfservice.conftest import link_texted_to
from tts.callqueue.models import WorkItem
from tts.cases.models import Contact
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db
from tts.selfservice.models import TeamAlert


@pytest.fixture
def texted_contact(app, ctx, daytime):
    def make(relationship="close", n=21):
        with ctx():
            case = create_case(None, person_data(n), test_date=today(), symptom_onset_date=None)
            contact = add_contact(None, case, person_data(n + 1), relationship=relationship, last_exposure_date=today())
            db.session.flush()
            return link_texted_to(contact.person_id, "contact_advice"), contact.id
    return make


def items_of(contact_id):
    return db.session.scalars(select(WorkItem).where(WorkItem.contact_id == contact_id).order_by(WorkItem.id)).all()


def test_a_confirmed_contact_is_reached_by_text_and_their_call_is_cancelled(app, client, texted_contact):
    token, contact_id = texted_contact("close")
    page = client.get(f"/s/{token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "stay at home until the end of" in text
    assert page.headers["Cache-Control"] == "no-store"
    done = client.post(f"/s/{token}", data={"response": "confirmed"})
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert (contact.status, contact.reached_by) == ("reached", "text")
        assert [i.status for i in items_of(contact_id)] == ["cancelled"]
    assert client.get(f"/s/{token}").status_code == 404  # answered: the link is spent


def test_a_household_contact_who_confirms_still_gets_their_call(app, client, texted_contact):
    token, contact_id = texted_contact("household", n=31)
    client.post(f"/s/{token}", data={"response": "confirmed"})
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert contact.reached_by == "text"
        assert [i.status for i in items_of(contact_id)] == ["open"]


def test_a_household_confirmation_is_enough_when_the_council_says_so(app, client, texted_contact):
    app.config["TTS_TEXT_CONFIRMED_HOUSEHOLD_CALL"] = False
    try:
        token, contact_id = texted_contact("household", n=41)
        client.post(f"/s/{token}", data={"response": "confirmed"})
        with app.app_context():
            assert [i.status for i in items_of(contact_id)] == ["cancelled"]
    finally:
        app.config["TTS_TEXT_CONFIRMED_HOUSEHOLD_CALL"] = True


def test_asking_for_a_call_queues_a_callback(app, client, texted_contact):
    token, contact_id = texted_contact("close", n=51)
    client.post(f"/s/{token}", data={"response": "call_me"})
    with app.app_context():
        assert [(i.kind, i.status) for i in items_of(contact_id)] == [("initial_call", "open"), ("callback", "open")]
        assert db.session.get(Contact, contact_id).reached_by is None


def test_reporting_symptoms_puts_a_priority_call_first_and_tells_supervisors(app, client, texted_contact):
    token, contact_id = texted_contact("close", n=61)
    client.post(f"/s/{token}", data={"response": "symptoms"})
    with app.app_context():
        callback = items_of(contact_id)[-1]
        assert (callback.kind, callback.band) == ("callback", 1)
        contact = db.session.get(Contact, contact_id)
        assert db.session.scalar(select(TeamAlert.kind).where(TeamAlert.person_id == contact.person_id)) == "symptoms"


def test_no_choice_is_a_govuk_error(app, client, texted_contact):
    token, _ = texted_contact("close", n=71)
    response = client.post(f"/s/{token}", data={})
    assert response.status_code == 400 and 'href="#response-0"' in response.get_data(as_text=True)
