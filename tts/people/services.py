"""Finding, reusing and updating people and households."""
from sqlalchemy import func, or_, select

from tts.audit.services import record_event
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.people.matching import fill_in, household_key, is_same_person
from tts.people.models import Household, Person
from tts.people.validation import PersonData, clean_person, normalise_phone

def find_existing_person(data: PersonData) -> Person | None:
    """The person already known who is the one entered (`matching.is_same_person`; the earliest if several)."""
    if data.date_of_birth is None:
        return None
    conditions = []  # the people the rule could match, by the (date of birth, phone | postcode) indexes
    if data.phone:
        conditions.append(Person.phone == data.phone)
    if data.postcode and data.first_name and data.last_name:
        conditions.append(Person.postcode == data.postcode)
    if not conditions:
        return None
    candidates = db.session.scalars(select(Person).where(Person.date_of_birth == data.date_of_birth,
                                                         Person.merged_into_id.is_(None),
                                                         or_(*conditions)).order_by(Person.id))
    return next((person for person in candidates if is_same_person(person, data)), None)


_SEARCH = object()


def find_or_create_person(actor, data: PersonData, *, household: Household | None = None,
                          link_household: bool = False, known=_SEARCH) -> tuple[Person, bool]:
    """Reuse a known person (filling in details they lacked) or create one; `data` is already clean.
    A new person is created in `household` if given, else (with link_household) in the household at their
    address: one INSERT, instead of an INSERT and an UPDATE by ensure_household afterwards. `known`: the
    result of `find_existing_person(data)` when the caller has looked already."""
    person = find_existing_person(data) if known is _SEARCH else known
    if person is not None:
        filled = fill_in(person, data)
        record_event(actor, "person.match", person, {"filled": filled} if filled else None)
        return person, False
    if household is None and link_household and data.address and data.postcode:
        household = find_or_create_household(data.address, data.postcode)
    person = Person(first_name=data.first_name, last_name=data.last_name, date_of_birth=data.date_of_birth,
                    phone=data.phone, email=data.email, address=data.address, postcode=data.postcode,
                    language=data.language, household=household)
    db.session.add(person)
    db.session.flush()
    record_event(actor, "person.create", person)
    return person, True


def find_or_create_household(address: str, postcode: str) -> Household:
    """The household at this address (matched ignoring case and spacing), created if new."""
    key = household_key(address)
    candidates = db.session.scalars(select(Household).where(Household.postcode == postcode))
    for household in candidates:
        if household_key(household.address) == key:
            return household
    household = Household(address=address, postcode=postcode)
    db.session.add(household)
    db.session.flush()
    return household


def ensure_household(person: Person) -> Household | None:
    """Link a person with an address to the household living there."""
    if person.household is None and person.address and person.postcode:
        person.household = find_or_create_household(person.address, person.postcode)
        db.session.flush()
    return person.household


def update_person(actor, person: Person, data: PersonData, *, is_vulnerable: bool | None = None,
                  has_sms_opt_out: bool | None = None) -> Person:
    """Correct a person's details; moving address moves them to that address's household."""
    errors = ErrorCollector()
    clean = clean_person(data, errors, prefix="", require=("first_name", "last_name"))
    errors.raise_if_any()
    changed = []
    for name in ("first_name", "last_name", "date_of_birth", "phone", "email", "address", "postcode"):
        if getattr(person, name) != getattr(clean, name):
            setattr(person, name, getattr(clean, name))
            changed.append(name)
    if clean.language is not None and person.language != clean.language:  # given: set (never cleared by omission)
        person.language = clean.language
        changed.append("language")
    for name, value in (("is_vulnerable", is_vulnerable), ("has_sms_opt_out", has_sms_opt_out)):
        if value is not None and getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    if {"address", "postcode"} & set(changed):
        person.household = None
        ensure_household(person)
    if "is_vulnerable" in changed:
        from tts.callqueue.bands import refresh_bands

        refresh_bands(person)
    db.session.flush()
    if changed:
        record_event(actor, "person.update", person, {"fields": changed})
    return person


def search_people(actor, *, reference: str | None = None, phone: str | None = None,
                  name: str | None = None, date_of_birth=None) -> list[Person]:
    """Exact-match search: by case reference, by phone, or by full name with date of birth."""
    from tts.cases.models import Case

    errors = ErrorCollector()
    stmt = None
    kind = None
    if reference and reference.strip():
        kind = "reference"
        ref = reference.strip().upper()
        if not ref.startswith("TTS-"):
            ref = "TTS-" + ref
        stmt = select(Person).join(Case, Case.person_id == Person.id).where(Case.reference == ref)
    elif phone and phone.strip():
        kind = "phone"
        try:
            stmt = select(Person).where(Person.phone == normalise_phone(phone))
        except ValueError as exc:
            errors.add("phone", str(exc))
    elif name and name.strip():
        kind = "name"
        if date_of_birth is None:
            errors.add("date_of_birth", "Enter the date of birth to search by name")
        parts = name.split()
        if len(parts) < 2:
            errors.add("name", "Enter the first and last name")
        if date_of_birth is not None and len(parts) >= 2:
            stmt = select(Person).where(Person.date_of_birth == date_of_birth,
                                        func.lower(Person.first_name) == " ".join(parts[:-1]).lower(),
                                        func.lower(Person.last_name) == parts[-1].lower())
    else:
        errors.add("reference", "Enter a case reference, a phone number, or a name and date of birth")
    errors.raise_if_any()
    assert stmt is not None
    people = list(db.session.scalars(stmt.where(Person.merged_into_id.is_(None)).order_by(Person.id).limit(50)))
    record_event(actor, "person.search", None, {"by": kind, "result_ids": [p.id for p in people]})
    return people
