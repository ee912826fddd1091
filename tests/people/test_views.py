"""The person page and timeline, editing, and exact-match search."""
import pytest

from tests.factories import person_data
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db


@pytest.fixture
def family(ctx):
    with ctx():
        case = create_case(None, person_data(3), test_date=today(), symptom_onset_date=None)
        contact = add_contact(None, case, person_data(4, address=None, postcode=None), relationship="household",
                              last_exposure_date=today())
        db.session.flush()
        return {"reference": case.reference, "case_person": case.person_id, "contact_person": contact.person_id,
                "dob": case.person.date_of_birth}


def test_person_page_shows_timeline_and_household(tracer_client, family):
    tracer_client.post("/search", data={"reference": family["reference"]})
    tracer_client.post("/search", data={"phone": "07700 900004"})
    html = tracer_client.get(f"/people/{family['contact_person']}").get_data(as_text=True)
    assert "Named as a household contact of " + family["reference"] in html
    assert "Dev Nettlefold" in html  # the case, listed under Household (person_data(3))


def test_search_by_reference_phone_and_name_with_dob(tracer_client, family):
    by_ref = tracer_client.post("/search", data={"reference": family["reference"].lower().removeprefix("tts-")})
    assert "1 person found" in by_ref.get_data(as_text=True)
    by_phone = tracer_client.post("/search", data={"phone": "+44 7700 900004"})
    assert "Ember Quillon" in by_phone.get_data(as_text=True)
    dob = family["dob"]
    by_name = tracer_client.post("/search", data={"name": "dev nettlefold", "date_of_birth-day": dob.day,
                                                  "date_of_birth-month": dob.month, "date_of_birth-year": dob.year})
    assert "Dev Nettlefold" in by_name.get_data(as_text=True)
    no_dob = tracer_client.post("/search", data={"name": "Dev Nettlefold"})
    assert no_dob.status_code == 400 and "Enter the date of birth to search by name" in no_dob.get_data(as_text=True)
    nothing = tracer_client.post("/search", data={})
    assert nothing.status_code == 400


def test_search_is_a_post_so_personal_data_stays_out_of_urls(tracer_client):
    page = tracer_client.get("/search").get_data(as_text=True)
    assert '<form method="post"' in page


def test_edit_person_validates_and_moves_household(app, tracer_client, family):
    pid = family["contact_person"]
    tracer_client.post("/search", data={"phone": "07700 900004"})
    bad = tracer_client.post(f"/people/{pid}/edit", data={"first_name": "Ember", "last_name": "Quillon",
                                                          "postcode": "XX"})
    assert bad.status_code == 400 and "Enter a real postcode" in bad.get_data(as_text=True)
    moved = {"first_name": "Ember", "last_name": "Quillon", "address": "99 Moved Road", "postcode": "S10 2TN"}
    why = tracer_client.post(f"/people/{pid}/edit", data=moved)
    assert why.status_code == 400 and 'href="#reason"' in why.get_data(as_text=True)  # a correction says why
    ok = tracer_client.post(f"/people/{pid}/edit", data={**moved, "reason": "Moved to her sister's"})
    assert ok.status_code == 302
    timeline = tracer_client.get(f"/people/{pid}").get_data(as_text=True)
    assert "Address, postcode corrected by" in timeline and "Moved to her sister&#39;s" in timeline
    from tts.people.models import Person

    with app.app_context():
        person = db.session.get(Person, pid)
        case_person = db.session.get(Person, family["case_person"])
        assert person.household_id != case_person.household_id and person.postcode == "S10 2TN"


def test_the_search_page_says_what_it_matches_and_a_failed_search_what_to_try(tracer_client):
    page = tracer_client.get("/search").get_data(as_text=True)
    assert "Each must match exactly" in page and "part of a surname or by postcode" in page
    missed = tracer_client.post("/search", data={"reference": "TTS-ZZZZ9"}).get_data(as_text=True)
    assert "0 people found" in missed and 'data-testid="search-suggestions"' in missed
    assert "check the reference" in missed and "by part of the surname" in missed


def test_a_persons_language_is_set_on_the_edit_form_without_a_reason(app, tracer_client, family):
    from tts.people.models import Person

    pid = family["contact_person"]
    tracer_client.post("/search", data={"phone": "07700 900004"})
    page = tracer_client.get(f"/people/{pid}/edit").get_data(as_text=True)
    assert 'name="language"' in page and "Polish (Polski)" in page
    with app.app_context():
        person = db.session.get(Person, pid)
        keep = {"first_name": person.first_name, "last_name": person.last_name, "phone": person.phone or "",
                "address": person.address or "", "postcode": person.postcode or ""}
    bad = tracer_client.post(f"/people/{pid}/edit", data={**keep, "language": "zz"})
    assert bad.status_code == 400 and 'href="#language"' in bad.get_data(as_text=True)
    ok = tracer_client.post(f"/people/{pid}/edit", data={**keep, "language": "pl"})
    assert ok.status_code == 302  # a preference, not a correction: no reason asked
    with app.app_context():
        assert db.session.get(Person, pid).language == "pl"
    assert "Polish (Polski)" in tracer_client.get(f"/people/{pid}").get_data(as_text=True)
