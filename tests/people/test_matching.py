"""The matching rules (tts/people/matching.py), which the services and the set-based import both apply."""
from datetime import date

from tts.people.matching import fill_in, household_key, is_same_person
from tts.people.validation import PersonData

BORN = date(1990, 4, 1)


def entry(**kw) -> PersonData:
    values = dict(first_name="Zoë", last_name="Ashworth", date_of_birth=BORN, phone="+447700900123",
                  email=None, address="4 Imaginary Road", postcode="S1 2HH")
    return PersonData(**{**values, **kw})


def test_same_first_name_birth_and_phone_or_same_name_birth_and_postcode():
    known = entry()
    assert is_same_person(known, entry(first_name="ZOË", last_name="Else"))  # first name, birth and phone
    assert not is_same_person(known, entry(first_name="Adah"))  # a twin on the same phone is someone else
    assert is_same_person(known, entry(phone="+447700900999", first_name="ZOË", last_name="ASHWORTH"))
    assert not is_same_person(known, entry(phone="+447700900999", first_name="Zoe"))
    assert not is_same_person(known, entry(phone="+447700900999", postcode="S2 4AA"))
    assert not is_same_person(known, entry(date_of_birth=date(1990, 4, 2)))
    assert not is_same_person(known, entry(date_of_birth=None))


def test_a_known_person_keeps_their_details_and_gains_the_missing_ones():
    known = entry(email=None, phone=None)
    filled = fill_in(known, entry(email="zoe@example.org", phone="+447700900555", address="Elsewhere"))
    assert filled == ["phone", "email"] and known.address == "4 Imaginary Road"


def test_households_match_ignoring_case_commas_and_spacing():
    assert household_key("4,  Imaginary ROAD") == household_key("4 imaginary road")
