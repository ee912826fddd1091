"""Logging cases and adding their contacts: the isolation, exposure and household rules."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from tts.audit.services import record_event
from tts.callqueue.services import queue_initial_call
from tts.cases.intake import check_case, check_contact, check_new_contact, lives_with_case, random_reference
from tts.cases.lifecycle import cancel_work
from tts.cases.models import Case, CaseSource, Contact, ContactStatus
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.people.matching import fill_in
from tts.people.services import ensure_household, find_or_create_person
from tts.people.validation import PersonData
from tts.policies.services import policy_in_force


def new_reference() -> str:
    while True:
        ref = random_reference()
        if db.session.scalar(select(Case.id).where(Case.reference == ref)) is None:
            return ref


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


def add_contact(actor, case: Case, person: PersonData, *, relationship: str | None,
                last_exposure_date: date | None, referral_id: str | None = None) -> Contact:
    """Add a contact to a case; household contacts share the case's address and household."""
    clean = check_contact(case, person, relationship=relationship, last_exposure_date=last_exposure_date)
    assert last_exposure_date is not None and relationship is not None

    # They live with the case: a new person is created in the case's household, a known one moved to it.
    household = ensure_household(case.person) if lives_with_case(relationship) else None
    subject, _ = find_or_create_person(actor, clean, household=household,
                                       link_household=not lives_with_case(relationship))
    already = db.session.scalar(select(Contact.id).where(Contact.case_id == case.id, Contact.person_id == subject.id))
    check_new_contact(is_case_themselves=subject.id == case.person_id, already_contact=already is not None,
                      name=subject.full_name)
    if lives_with_case(relationship):
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


def convert_contact(actor, contact: Contact, *, test_date: date | None, symptom_onset_date: date | None,
                    person: PersonData | None = None) -> Case:
    """A contact who tested positive becomes a case: the same person (details they lack, such as a date of
    birth, taken from `person`), linked to the case they caught it from; the contact is marked
    became_case, their waiting calls cancelled, and the case's first call queued."""
    errors = ErrorCollector()
    if contact.status in (ContactStatus.BECAME_CASE, ContactStatus.CLOSED):
        errors.add("test_date", f"This contact {'already became a case' if contact.became_case_id else 'is closed'}")
        errors.raise_if_any()
    subject = contact.person
    known = PersonData(first_name=subject.first_name, last_name=subject.last_name,
                       date_of_birth=subject.date_of_birth, phone=subject.phone, email=subject.email,
                       address=subject.address, postcode=subject.postcode)
    given = person or PersonData()
    entered = PersonData(**{name: getattr(known, name) or getattr(given, name)
                            for name in ("first_name", "last_name", "date_of_birth", "phone", "email", "address",
                                         "postcode")})
    clean = check_case(entered, test_date=test_date, symptom_onset_date=symptom_onset_date, source=CaseSource.LOCAL)
    filled = fill_in(subject, clean)
    if subject.date_of_birth is None:
        subject.date_of_birth = clean.date_of_birth
        filled.append("date_of_birth")
    ensure_household(subject)
    policy = policy_in_force()
    case = Case(reference=new_reference(), person=subject, test_date=test_date, symptom_onset_date=symptom_onset_date,
                source=CaseSource.LOCAL, isolation_end_date=policy.isolation_end(test_date, symptom_onset_date),
                policy=policy, created_by_id=getattr(actor, "id", None), exposed_by_case_id=contact.case_id)
    db.session.add(case)
    db.session.flush()
    contact.status, contact.became_case_id = ContactStatus.BECAME_CASE, case.id
    calls, _ = cancel_work(contact, f"Became a case: {case.reference}")
    record_event(actor, "case.create", case, {"person_id": subject.id, "source": case.source,
                                              "exposed_by_case_id": contact.case_id})
    record_event(actor, "contact.convert", contact, {"person_id": subject.id, "case_id": case.id,
                                                     "calls_cancelled": calls, "filled": filled})
    queue_initial_call(actor, case=case)
    return case
