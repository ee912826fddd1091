"""The rules of a new case or contact, in one place: the services (one record at a time,
tts/cases/services.py) and the set-based import (a whole file in memory, tts/imports/bulk.py) both apply
them, and the import's row-by-row path (the services themselves) is kept as the oracle its tests compare
against. Who counts as someone already known, and their household, are tts/people/matching.py's rules."""
import secrets
from dataclasses import replace
from datetime import date

from tts.cases.models import CaseSource, Relationship
from tts.errors import ErrorCollector
from tts.people.validation import PersonData, check_recent, clean_person

# No 0/O, 1/I/L or U: references are read out over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
SELF_CONTACT = "This is the case themselves, not a contact"
ALREADY_CONTACT = "{name} is already a contact of this case"


def random_reference() -> str:
    return "TTS-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(5))


_SOURCES = frozenset(s.value for s in CaseSource)
_RELATIONSHIPS = frozenset(r.value for r in Relationship)


def check_case(person: PersonData, *, test_date: date | None, symptom_onset_date: date | None,
               source: str) -> PersonData:
    """A new case's rules on what was entered: the cleaned person, or ValidationFailed with every problem."""
    errors = ErrorCollector()
    clean = clean_person(person, errors, require=("first_name", "last_name", "date_of_birth", "address", "postcode"))
    if test_date is None:
        errors.add("test_date", "Enter the test date")
    check_recent(errors, "test_date", test_date, "Test date")
    check_recent(errors, "symptom_onset_date", symptom_onset_date, "Symptom onset date")
    if source not in _SOURCES:
        errors.add("source", f"Source must be one of: {', '.join(s.value for s in CaseSource)}")
    errors.raise_if_any()
    return clean


def check_contact(case, person: PersonData, *, relationship: str | None, last_exposure_date: date | None) -> PersonData:
    """A new contact's rules on what was entered (the exposure must fall in the case's infectious period):
    the cleaned person, or ValidationFailed with every problem. `case` needs person, policy and its dates."""
    errors = ErrorCollector()
    if relationship == Relationship.HOUSEHOLD:
        # They live with the case: the address is the case's unless told otherwise.
        person = replace(person, address=person.address or case.person.address,
                         postcode=person.postcode or case.person.postcode)
    clean, date_ok = _contact_checks(errors, person, relationship, last_exposure_date)
    if date_ok:
        start = case.policy.infectious_from(case.test_date, case.symptom_onset_date)
        if last_exposure_date < start:
            basis = "symptoms started" if case.symptom_onset_date else "the test (no symptoms)"
            errors.add("last_exposure_date",
                       f"Date of last contact must be on or after {start:%-d %B %Y}: the case was not infectious "
                       f"until {case.policy.infectious_days_before_onset} days before {basis}")
        elif last_exposure_date > case.isolation_end_date:
            errors.add("last_exposure_date",
                       f"Date of last contact must be on or before {case.isolation_end_date:%-d %B %Y}, "
                       "when the case's isolation ends")
    errors.raise_if_any()
    return clean


def _contact_checks(errors: ErrorCollector, person: PersonData, relationship: str | None,
                    last_exposure_date: date | None) -> tuple[PersonData, bool]:
    """A contact's rules that need no case: the relationship, the person's details, a recent date. Returns
    the cleaned person, and whether the date can be checked against the case's infectious period."""
    if relationship not in _RELATIONSHIPS:
        errors.add("relationship", "Choose household, close or setting")
    clean = clean_person(person, errors)
    recent = ErrorCollector()
    check_recent(recent, "last_exposure_date", last_exposure_date, "Date of last contact")
    if last_exposure_date is None:
        errors.add("last_exposure_date", "Enter the date of last contact with the case")
    elif recent.errors:
        errors.add("last_exposure_date", recent.errors["last_exposure_date"][0])
    return clean, last_exposure_date is not None and not recent.errors


def check_contact_alone(person: PersonData, *, relationship: str | None, last_exposure_date: date | None) -> None:
    """What can be checked of a contact whose case is not known (an import row naming an unknown case), so
    its other problems are reported with that one, in the same pass. ValidationFailed with every problem."""
    errors = ErrorCollector()
    _contact_checks(errors, person, relationship, last_exposure_date)
    errors.raise_if_any()


def check_new_contact(*, is_case_themselves: bool, already_contact: bool, name: str) -> None:
    """A case is not their own contact, and nobody is the same case's contact twice."""
    if is_case_themselves:
        raise_field("person.first_name", SELF_CONTACT)
    if already_contact:
        raise_field("person.first_name", ALREADY_CONTACT.format(name=name))


def lives_with_case(relationship: str) -> bool:
    """A household contact lives with the case: a new person is made in the case's household, and a known
    one moves to it; any other contact is linked to the household at their own address."""
    return relationship == Relationship.HOUSEHOLD


def raise_field(field: str, message: str) -> None:
    errors = ErrorCollector()
    errors.add(field, message)
    errors.raise_if_any()
