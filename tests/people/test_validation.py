"""Phone numbers, postcodes and person fields are normalised or refused with a message that names the field."""
from datetime import timedelta

import pytest

from tts.clock import today
from tts.errors import ErrorCollector
from tts.people.validation import PersonData, clean_person, format_phone, normalise_phone, normalise_postcode


@pytest.mark.parametrize("raw, e164", [
    ("07700 900123", "+447700900123"),
    ("07700900123", "+447700900123"),
    ("+44 7700 900123", "+447700900123"),
    ("+447700900123", "+447700900123"),
    ("0044 7700 900123", "+447700900123"),
    ("(07700) 900-123", "+447700900123"),
    ("0114 496 0123", "+441144960123"),
    ("+44 114 496 0999", "+441144960999"),
    ("020 7946 0123", "+442079460123"),
])
def test_common_uk_forms_are_stored_as_e164(raw, e164):
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "hello", "0114 496 012", "07700 9001234", "+44 20 7946", ""])
def test_invalid_numbers_are_refused(raw):
    with pytest.raises(ValueError, match="07700 900123"):
        normalise_phone(raw)


def test_only_the_drama_mobile_range_is_let_through_beyond_phonenumbers():
    # 07700 900000-900999 is reserved for fiction; phonenumbers calls it invalid, the app accepts it.
    assert normalise_phone("07700 900000") == "+447700900000"
    assert normalise_phone("07700 900999") == "+447700900999"
    import phonenumbers

    assert not phonenumbers.is_valid_number(phonenumbers.parse("07700 900999", "GB"))


def test_the_common_forms_shortcut_agrees_with_phonenumbers_full_parse():
    # normalise_phone skips phonenumbers' general parse for 0 or +44 and ten digits. Every leading group
    # of three digits, each with suffixes chosen to hit valid and invalid numbers of every kind, written
    # in the shortcut's forms and in forms it leaves to the full parse, must give the same answer.
    import random

    from tts.people.validation import _parse_phone

    def outcome(fn, raw):
        try:
            return fn(raw)
        except ValueError as exc:
            return ("refused", str(exc))

    rng = random.Random(20261204)
    checked = 0
    for prefix in range(1000):
        for _ in range(6):
            ten = f"{prefix:03d}{rng.randrange(10**7):07d}"
            for raw in (f"0{ten}", f"+44{ten}", f"0{ten[:4]} {ten[4:]}", f"+44 {ten[:3]} {ten[3:6]} {ten[6:]}",
                        f" 0{ten} ", f"0{ten[:-1]}", f"+44{ten}1", f"+440{ten[:-1]}"):
                assert outcome(normalise_phone, raw) == outcome(_parse_phone, raw), raw
                checked += 1
    assert checked == 1000 * 6 * 8


def test_format_phone_for_staff():
    assert format_phone("+447700900123") == "07700 900123"
    assert format_phone("+441144960123") == "0114 496 0123"
    assert format_phone(None) == ""


@pytest.mark.parametrize("raw, clean", [
    ("s1 2hh", "S1 2HH"), ("S12HH", "S1 2HH"), ("  sw1a1aa ", "SW1A 1AA"), ("ec1a 1bb", "EC1A 1BB"),
    ("M1 1AE", "M1 1AE"), ("b33 8th", "B33 8TH"), ("cr2 6xh", "CR2 6XH"), ("dn55 1pt", "DN55 1PT"),
])
def test_postcodes_are_normalised(raw, clean):
    assert normalise_postcode(raw) == clean


@pytest.mark.parametrize("raw", ["S1", "12345", "S1 2CI", "SHEFFIELD", "S1 2H", "QQ1 2HH", ""])
def test_malformed_postcodes_are_refused(raw):
    with pytest.raises(ValueError, match="postcode"):
        normalise_postcode(raw)


def test_clean_person_reports_every_problem_by_field():
    errors = ErrorCollector()
    clean_person(PersonData(first_name=" ", last_name="Moorcroft", date_of_birth=today() + timedelta(days=1),
                            phone="12", postcode="nope", email="not-an-email"), errors,
                 require=("first_name", "last_name", "date_of_birth", "address", "postcode"))
    assert set(errors.errors) == {"person.first_name", "person.date_of_birth", "person.phone",
                                  "person.postcode", "person.email", "person.address"}
    assert errors.errors["person.date_of_birth"] == ["Date of birth must be today or in the past"]


def test_clean_person_tidies_whitespace():
    errors = ErrorCollector()
    out = clean_person(PersonData(first_name="  Ada ", last_name="Kestrel  Jones", address="1  High   St"), errors)
    assert (out.first_name, out.last_name, out.address) == ("Ada", "Kestrel Jones", "1 High St")
    assert not errors.errors
