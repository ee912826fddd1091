"""Logging cases and adding their contacts: the isolation, exposure and household rules."""
import secrets
from dataclasses import replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from tts.audit.services import record_event
from tts.callqueue.services import queue_initial_call
from tts.cases.models import Case, CaseSource, Contact, Relationship
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.people.services import ensure_household, find_or_create_person
from tts.people.validation import PersonData, check_recent, clean_person
from tts.policies.services import policy_in_force

# No 0/O, 1/I/L or U: references are read out over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
SELF_CONTACT = "This is the case themselves, not a contact"
ALREADY_CONTACT = "{name} is already a contact of this case"


def random_reference() -> str:
    return "TTS-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(5))


def new_reference() -> str:
    while True:
        ref = random_reference()
        if db.session.scalar(select(Case.id).where(Case.reference == ref)) is None:
            return ref


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


def create_case(actor, person: PersonData, *, test_date: date | None, symptom_onset_date: date | None,
                source: str = CaseSource.LOCAL, referral_id: str | None = None) -> Case:
    """Log a positive case; the person is reused if already known and linked to their household."""
    clean = check_case(person, test_date=test_date, symptom_onset_date=symptom_onset_date, source=source)
    assert test_date is not None

    subject, _ = find_or_create_person(actor, clean, link_household=True)
    ensure_household(subject)  # a known person without one yet
    policy = policy_in_force()
    case = Case(reference=new_reference(), person=subject, test_date=test_date,
                symptom_onset_date=symptom_onset_date, source=source,
                isolation_end_date=policy.isolation_end(test_date, symptom_onset_date),
                policy=policy, created_by_id=getattr(actor, "id", None), referral_id=referral_id)
    db.session.add(case)
    db.session.flush()
    record_event(actor, "case.create", case, {"person_id": subject.id, "source": source})
    queue_initial_call(actor, case=case)
    return case


def check_contact(case, person: PersonData, *, relationship: str | None, last_exposure_date: date | None) -> PersonData:
    """A new contact's rules on what was entered (the exposure must fall in the case's infectious period):
    the cleaned person, or ValidationFailed with every problem. `case` needs person, policy and its dates."""
    errors = ErrorCollector()
    if relationship not in _RELATIONSHIPS:
        errors.add("relationship", "Choose household, close or setting")
    if relationship == Relationship.HOUSEHOLD:
        # They live with the case: the address is the case's unless told otherwise.
        person = replace(person, address=person.address or case.person.address,
                         postcode=person.postcode or case.person.postcode)
    clean = clean_person(person, errors)
    recent = ErrorCollector()
    check_recent(recent, "last_exposure_date", last_exposure_date, "Date of last contact")
    if last_exposure_date is None:
        errors.add("last_exposure_date", "Enter the date of last contact with the case")
    elif recent.errors:
        errors.add("last_exposure_date", recent.errors["last_exposure_date"][0])
    else:
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


def add_contact(actor, case: Case, person: PersonData, *, relationship: str | None,
                last_exposure_date: date | None, referral_id: str | None = None) -> Contact:
    """Add a contact to a case; household contacts share the case's address and household."""
    clean = check_contact(case, person, relationship=relationship, last_exposure_date=last_exposure_date)
    assert last_exposure_date is not None and relationship is not None

    # They live with the case: a new person is created in the case's household, a known one moved to it.
    household = ensure_household(case.person) if relationship == Relationship.HOUSEHOLD else None
    subject, _ = find_or_create_person(actor, clean, household=household,
                                       link_household=relationship != Relationship.HOUSEHOLD)
    if subject.id == case.person_id:
        raise_field("person.first_name", SELF_CONTACT)
    if db.session.scalar(select(Contact.id).where(Contact.case_id == case.id, Contact.person_id == subject.id)):
        raise_field("person.first_name", ALREADY_CONTACT.format(name=subject.full_name))
    if relationship == Relationship.HOUSEHOLD:
        if subject.household_id != getattr(household, "id", None):
            subject.household = household
    else:
        ensure_household(subject)
    policy = policy_in_force()
    contact = Contact(case=case, person=subject, relationship_=relationship, last_exposure_date=last_exposure_date,
                      quarantine_end_date=policy.quarantine_end(last_exposure_date), policy=policy,
                      created_by_id=getattr(actor, "id", None), referral_id=referral_id)
    db.session.add(contact)
    db.session.flush()
    record_event(actor, "contact.create", contact, {"case_id": case.id, "person_id": subject.id,
                                                    "relationship": relationship})
    queue_initial_call(actor, contact=contact)
    return contact


def raise_field(field: str, message: str) -> None:
    errors = ErrorCollector()
    errors.add(field, message)
    errors.raise_if_any()


def view_case(actor, case: Case) -> Case:
    """Record that `actor` looked at this case (and so at its people)."""
    record_event(actor, "case.view", case, {"person_id": case.person_id})
    return case


def recent_cases(actor, *, see_all: bool, limit: int = 50):
    stmt = (select(Case).options(joinedload(Case.person), selectinload(Case.contacts))
            .order_by(Case.created_at.desc(), Case.id.desc()).limit(limit))
    if not see_all:
        stmt = stmt.where(Case.created_by_id == actor.id)
    return list(db.session.scalars(stmt))
