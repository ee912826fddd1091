"""Logging cases and adding their contacts: the isolation, exposure and household rules."""
from datetime import date, timedelta

from flask import current_app

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from tts.audit.services import record_event
from tts.callqueue.services import queue_initial_call
from tts.cases import events
from tts.cases.intake import check_case, check_contact, check_new_contact, lives_with_case, random_reference
from tts.cases.lifecycle import cancel_work
from tts.cases.models import Case, CaseSource, CaseStatus, Contact, ContactSource, ContactStatus
from tts.clock import utcnow
from tts.errors import ErrorCollector, ValidationFailed
from tts.extensions import db
from tts.people.matching import fill_in
from tts.people.services import ensure_household, find_existing_person, find_or_create_person
from tts.people.validation import PersonData
from tts.policies.services import policy_in_force


def new_reference() -> str:
    while True:
        ref = random_reference()
        if db.session.scalar(select(Case.id).where(Case.reference == ref)) is None:
            return ref


class DuplicateCase(ValidationFailed):
    """The person already has a case that is open, or was logged within TTS_REINFECTION_DAYS: most likely the
    same illness. Logged anyway only when the caller says it is a new episode."""

    http_status = 409

    def __init__(self, existing: Case):
        when = f"{existing.created_at:%-d %B %Y}"
        super().__init__({"new_episode": [
            f"{existing.person.full_name} already has case {existing.reference} ({existing.status_label.lower()}, "
            f"logged {when}): say whether this is the same illness or a new one"]})
        self.existing = existing
        self.extra = {"existing_case_id": existing.id, "existing_case_reference": existing.reference}


def current_case(person) -> Case | None:
    """The person's case that a new one would most likely repeat: open, or logged in the last
    TTS_REINFECTION_DAYS days (the latest)."""
    if person is None or person.id is None:
        return None
    since = utcnow() - timedelta(days=current_app.config["TTS_REINFECTION_DAYS"])
    return db.session.scalar(select(Case).where(
        Case.person_id == person.id, or_(Case.status.in_((CaseStatus.OPEN, CaseStatus.ISOLATING)),
                                         Case.created_at >= since), Case.status != CaseStatus.CLOSED)
        .order_by(Case.created_at.desc()).limit(1))


def create_case(actor, person: PersonData, *, test_date: date | None, symptom_onset_date: date | None,
                source: str = CaseSource.LOCAL, referral_id: str | None = None, new_episode: bool = False) -> Case:
    """Log a positive case; the person is reused if already known and linked to their household. Someone
    with a current case (`current_case`) is refused with DuplicateCase unless `new_episode`."""
    clean = check_case(person, test_date=test_date, symptom_onset_date=symptom_onset_date, source=source)
    assert test_date is not None

    known = find_existing_person(clean)
    existing = None if new_episode else current_case(known)
    if existing is not None:
        raise DuplicateCase(existing)
    subject, _ = find_or_create_person(actor, clean, link_household=True, known=known)
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
                last_exposure_date: date | None, referral_id: str | None = None,
                source: str = ContactSource.STAFF) -> Contact:
    """Add a contact to a case; household contacts share the case's address and household. `source`: who
    named them (staff, the case themselves online, an import)."""
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
                      created_by_id=getattr(actor, "id", None), referral_id=referral_id, source=source)
    db.session.add(contact)
    db.session.flush()
    record_event(actor, "contact.create", contact, {"case_id": case.id, "person_id": subject.id,
                                                    "relationship": relationship, "source": source})
    queue_initial_call(actor, contact=contact)
    return contact


def add_contacts(actor, case: Case, rows: list[tuple[str, dict]]) -> list[Contact]:
    """Several contacts of a case at once (the line list): each row `(key, add_contact's arguments)`. Every
    row is checked; if any is wrong, ValidationFailed names each problem as `<key>-<field>` (in row order)
    and the caller rolls everything back: nothing is saved until every row is right."""
    errors = ErrorCollector()
    if not rows:
        errors.add("rows", "Enter at least one contact")
    added = []
    for key, row in rows:
        try:
            added.append(add_contact(actor, case, row["person"], relationship=row.get("relationship"),
                                     last_exposure_date=row.get("last_exposure_date")))
        except ValidationFailed as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    errors.add(f"{key}-{field.removeprefix('person.')}", message)
    errors.raise_if_any()
    return added


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
                    person: PersonData | None = None, new_episode: bool = False) -> Case:
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
    existing = None if new_episode else current_case(subject)
    if existing is not None:
        raise DuplicateCase(existing)
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
    events.contact_converted.fire(actor, contact, case)
    return case
