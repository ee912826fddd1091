"""The isolation, exposure-window, dedupe and household rules of logging cases and contacts."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import person_data
from tts.audit.models import AuditEvent
from tts.cases.models import Case, Contact
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.people.models import Household, Person

D = timedelta(days=1)


@pytest.fixture
def db_ctx(app):
    with app.app_context():
        yield


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_symptomatic_case_isolates_ten_full_days_after_onset(db_ctx):
    case = create_case(None, person_data(1), test_date=today() - D, symptom_onset_date=today() - 3 * D)
    assert case.isolation_end_date == today() + 7 * D
    assert case.reference.startswith("TTS-") and len(case.reference) == 9
    assert case.person.phone == "+447700900001"
    assert case.status == "open" and case.source == "local"


def test_asymptomatic_case_isolates_from_the_test_date(db_ctx):
    case = create_case(None, person_data(2), test_date=today() - 2 * D, symptom_onset_date=None)
    assert case.isolation_end_date == today() + 8 * D


def test_case_dates_in_the_future_are_refused_and_nothing_is_written(db_ctx):
    people_before, cases_before = count(Person), count(Case)
    with pytest.raises(ValidationFailed) as exc:
        create_case(None, person_data(3), test_date=today() + D, symptom_onset_date=today() + 2 * D)
    assert exc.value.errors == {"test_date": ["Test date must be today or in the past"],
                                "symptom_onset_date": ["Symptom onset date must be today or in the past"]}
    assert (count(Person), count(Case)) == (people_before, cases_before)


def test_case_needs_name_dob_address_postcode_and_test_date(db_ctx):
    with pytest.raises(ValidationFailed) as exc:
        create_case(None, person_data(0, first_name="", date_of_birth=None, address=None, postcode=None),
                    test_date=None, symptom_onset_date=None)
    assert set(exc.value.errors) == {"person.first_name", "person.date_of_birth", "person.address",
                                     "person.postcode", "test_date"}


def test_contact_quarantines_fourteen_days_after_last_exposure(db_ctx):
    case = create_case(None, person_data(1), test_date=today() - D, symptom_onset_date=today() - 3 * D)
    contact = add_contact(None, case, person_data(5, postcode="S10 2TN"), relationship="close",
                          last_exposure_date=today() - 2 * D)
    assert contact.quarantine_end_date == today() + 12 * D
    assert contact.household_id is None


def test_exposure_before_the_infectious_window_is_refused_with_the_reason(db_ctx):
    onset = today() - 5 * D
    case = create_case(None, person_data(1), test_date=today() - D, symptom_onset_date=onset)
    # Infectious from 2 days before onset: onset - 2 is allowed, onset - 3 is not.
    add_contact(None, case, person_data(6), relationship="close", last_exposure_date=onset - 2 * D)
    with pytest.raises(ValidationFailed) as exc:
        add_contact(None, case, person_data(7), relationship="close", last_exposure_date=onset - 3 * D)
    (message,) = exc.value.errors["last_exposure_date"]
    assert f"on or after {onset - 2 * D:%-d %B %Y}" in message
    assert "2 days before symptoms started" in message


def test_without_onset_the_window_opens_two_days_before_the_test(db_ctx):
    test_date = today() - 4 * D
    case = create_case(None, person_data(1), test_date=test_date, symptom_onset_date=None)
    with pytest.raises(ValidationFailed) as exc:
        add_contact(None, case, person_data(7), relationship="close", last_exposure_date=test_date - 3 * D)
    assert "before the test (no symptoms)" in exc.value.errors["last_exposure_date"][0]


def test_exposure_after_isolation_ends_or_in_the_future_is_refused(db_ctx):
    case = create_case(None, person_data(1), test_date=today() - 20 * D, symptom_onset_date=today() - 20 * D)
    assert case.isolation_end_date == today() - 10 * D
    with pytest.raises(ValidationFailed) as exc:
        add_contact(None, case, person_data(8), relationship="close", last_exposure_date=today() - 9 * D)
    assert "when the case's isolation ends" in exc.value.errors["last_exposure_date"][0]
    with pytest.raises(ValidationFailed) as exc:
        add_contact(None, case, person_data(8), relationship="close", last_exposure_date=today() + D)
    assert exc.value.errors["last_exposure_date"] == ["Date of last contact must be today or in the past"]


def test_known_person_is_reused_by_first_name_dob_and_phone(db_ctx):
    first = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    again = person_data(1, first_name=first.person.first_name.upper(), address="Elsewhere 2", postcode="S2 4SU",
                        phone="+44 7700 900001")
    second = create_case(None, again, test_date=today(), symptom_onset_date=None, new_episode=True)
    assert second.person_id == first.person_id
    assert count(Person) == 1


def test_twins_on_a_parents_phone_are_two_people(db_ctx):
    """The same date of birth and phone, different first names: never one person."""
    first = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    twin = person_data(1, first_name="Adah")
    contact = add_contact(None, first, twin, relationship="household", last_exposure_date=today())
    assert contact.person_id != first.person_id and contact.person.first_name == "Adah"
    assert count(Person) == 2


def test_known_person_is_reused_by_name_dob_and_postcode_ignoring_case(db_ctx):
    first = create_case(None, person_data(1, phone=None), test_date=today(), symptom_onset_date=None)
    case2 = create_case(None, person_data(2), test_date=today(), symptom_onset_date=None)
    contact = add_contact(None, case2, person_data(1, first_name="BRAM", last_name="kestrel", phone="07700 900777",
                                                     postcode="s12hh"),
                          relationship="close", last_exposure_date=today())
    assert contact.person_id == first.person_id
    # The reused record gains the phone number it lacked.
    assert contact.person.phone == "+447700900777"


def test_same_name_but_different_dob_is_a_different_person(db_ctx):
    first = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    other = create_case(None, person_data(1, date_of_birth=first.person.date_of_birth - D, phone="07700 900555"),
                        test_date=today(), symptom_onset_date=None)
    assert other.person_id != first.person_id


def test_household_contact_joins_the_case_household_and_address(db_ctx):
    case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    contact = add_contact(None, case, person_data(2, address=None, postcode=None, date_of_birth=None),
                          relationship="household", last_exposure_date=today())
    assert contact.household_id == case.person.household_id is not None
    assert contact.person.address == case.person.address
    assert contact.person.postcode == "S1 2HH"
    assert {p.id for p in case.person.household.members} == {case.person_id, contact.person_id}


def test_cases_at_the_same_address_share_a_household(db_ctx):
    a = create_case(None, person_data(1, address="5 Mill Lane, Sheffield"), test_date=today(), symptom_onset_date=None)
    b = create_case(None, person_data(2, address="5 mill lane  sheffield"), test_date=today(), symptom_onset_date=None)
    assert a.person.household_id == b.person.household_id
    assert count(Household) == 1


def test_close_contact_is_not_put_in_the_case_household(db_ctx):
    case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    contact = add_contact(None, case, person_data(2, address="9 Far Road", postcode="S10 2TN"),
                          relationship="close", last_exposure_date=today())
    assert contact.person.household_id != case.person.household_id


def test_the_case_cannot_be_their_own_contact_nor_a_contact_twice(db_ctx):
    case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    with pytest.raises(ValidationFailed, match="the case themselves"):
        add_contact(None, case, person_data(1), relationship="household", last_exposure_date=today())
    add_contact(None, case, person_data(2), relationship="close", last_exposure_date=today())
    with pytest.raises(ValidationFailed, match="already a contact"):
        add_contact(None, case, person_data(2), relationship="close", last_exposure_date=today())
    assert count(Contact) == 1


def test_unknown_relationship_is_refused(db_ctx):
    case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    with pytest.raises(ValidationFailed) as exc:
        add_contact(None, case, person_data(2), relationship="neighbour", last_exposure_date=today())
    assert exc.value.errors == {"relationship": ["Choose household, close or setting"]}


def test_creating_writes_audit_events(db_ctx):
    case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    add_contact(None, case, person_data(2), relationship="close", last_exposure_date=today())
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    # Each first text carries a personal link, issued (and audited) as the text is written.
    assert actions == ["person.create", "case.create", "work_item.create", "self_service.link_issue", "message.queue",
                       "person.create", "contact.create", "work_item.create", "self_service.link_issue",
                       "message.queue"]
