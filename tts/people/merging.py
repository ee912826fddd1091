"""Merging two records of one person: everything of the merged-away record moves to the kept one.

`MOVES` names every column that refers to a person and what a merge does with it; a test compares it with
the schema, so a new table that refers to people cannot be forgotten. The merged-away person stays (the
audit trail names them), marked `merged_into_id`, and answers "merged into N" (410 on the API).
"""
from sqlalchemy import delete, select, update

from tts.audit.services import record_event
from tts.clock import utcnow
from tts.errors import DomainError, ErrorCollector
from tts.extensions import db
from tts.people.matching import fill_in
from tts.people.models import NotDuplicate, Person
from tts.people.validation import PersonData

# (table, column) -> what a merge does with the merged-away person's rows.
MOVES = {
    ("cases", "person_id"): "moved",
    ("contacts", "person_id"): "moved; a contact of a case the kept person is already a contact of, or of "
                               "their own case, is closed as a duplicate instead",
    ("support_needs", "person_id"): "moved",
    ("notes", "person_id"): "moved",
    ("corrections", "person_id"): "moved",
    ("work_items", "person_id"): "moved",
    ("call_attempts", "person_id"): "moved",
    ("escalations", "person_id"): "moved",
    ("messages", "person_id"): "moved",
    ("phone_calls", "person_id"): "moved",
    ("self_service_links", "person_id"): "moved (a live link keeps working: it is for the same person)",
    ("checkins", "person_id"): "moved",
    ("team_alerts", "person_id"): "moved",
    ("people", "merged_into_id"): "records merged into the merged-away one now point at the kept one",
    ("not_duplicates", "person_id"): "deleted: a decision about a record that is no longer in use",
    ("not_duplicates", "other_id"): "deleted",
}


class PersonMerged(DomainError):
    """The record was merged into another: 410 with merged_into on the API."""

    http_status = 410

    def __init__(self, person: Person):
        super().__init__(f"This record was merged into person {person.merged_into_id}")
        self.extra = {"merged_into": person.merged_into_id}
        self.merged_into_id = person.merged_into_id


def _tables():
    from tts.callqueue.models import CallAttempt, WorkItem
    from tts.cases.models import Case, Contact, Correction
    from tts.escalation.models import Escalation
    from tts.people.models import Note
    from tts.support.models import SupportNeed
    from tts.selfservice.models import CheckIn, SelfServiceLink, TeamAlert
    from tts.telephony.models import Message, PhoneCall

    return (Case, Contact, SupportNeed, Note, Correction, WorkItem, CallAttempt, Escalation, Message, PhoneCall,
            SelfServiceLink, CheckIn, TeamAlert)


def merge_person(actor, person: Person, into: Person) -> Person:
    """Merge `person` into `into` (both the same human): every record moves to `into`, details `into` lacks
    are filled in from `person`, and `person` is marked merged. Returns `into`."""
    from tts.cases import lifecycle
    from tts.cases.models import Case, ClosureReason, Contact

    errors = ErrorCollector()
    if person.id == into.id:
        errors.add("into", "Choose a different record to merge into")
        errors.raise_if_any()
    # Lock both, lower id first, and read them again: of two merges of the same pair at once (A into B,
    # B into A), the second waits, then finds its record already merged.
    for row_id in sorted((person.id, into.id)):
        db.session.execute(select(Person.id).where(Person.id == row_id).with_for_update())
    db.session.refresh(person)
    db.session.refresh(into)
    for label, record in (("into", into), ("person", person)):
        if record.merged_into_id is not None:
            errors.add(label, f"Person {record.id} was already merged into person {record.merged_into_id}")
        elif record.anonymised_at is not None:
            errors.add(label, f"Person {record.id} is anonymised: there is nothing left to merge")
    errors.raise_if_any()

    moved: dict[str, int] = {}
    # A contact record that would repeat one the kept person has (same case), or name them as a contact of
    # their own case, is closed as a duplicate before the rest move.
    clashing = list(db.session.scalars(select(Contact).where(
        Contact.person_id == person.id,
        (Contact.case_id.in_(select(Contact.case_id).where(Contact.person_id == into.id)))
        | Contact.case_id.in_(select(Case.id).where(Case.person_id == into.id)))))
    own_case_contacts = list(db.session.scalars(select(Contact).where(
        Contact.person_id == into.id, Contact.case_id.in_(select(Case.id).where(Case.person_id == person.id)))))
    for contact in clashing + own_case_contacts:
        if contact.may_close:
            lifecycle.close(actor, contact, reason=ClosureReason.DUPLICATE,
                            notes=f"Person {person.id} was merged into person {into.id}")
    same_case = [c.id for c in clashing if db.session.scalar(select(Contact.id).where(
        Contact.person_id == into.id, Contact.case_id == c.case_id)) is not None]
    for model in _tables():
        stmt = update(model).where(model.person_id == person.id)
        if model is Contact and same_case:
            stmt = stmt.where(Contact.id.not_in(same_case))  # the unique (case, person) pair: it stays
        result = db.session.execute(stmt.values(person_id=into.id).execution_options(synchronize_session=False))
        if result.rowcount:
            moved[model.__tablename__] = result.rowcount
    db.session.execute(update(Person).where(Person.merged_into_id == person.id).values(merged_into_id=into.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(NotDuplicate).where((NotDuplicate.person_id == person.id)
                                                  | (NotDuplicate.other_id == person.id)))

    filled = fill_in(into, PersonData(first_name=person.first_name, last_name=person.last_name,
                                      date_of_birth=person.date_of_birth, phone=person.phone, email=person.email,
                                      address=person.address, postcode=person.postcode))
    if into.date_of_birth is None and person.date_of_birth is not None:
        into.date_of_birth = person.date_of_birth
        filled.append("date_of_birth")
    if into.household_id is None and person.household_id is not None:
        into.household_id = person.household_id
    for flag in ("is_vulnerable", "has_sms_opt_out"):  # the safer of the two: help given, texts refused
        if getattr(person, flag) and not getattr(into, flag):
            setattr(into, flag, True)
            filled.append(flag)
    for field in ("language", "accessibility_needs"):
        if not getattr(into, field) and getattr(person, field):
            setattr(into, field, getattr(person, field))
            filled.append(field)
    person.merged_into_id, person.merged_at, person.household_id = into.id, utcnow(), None
    db.session.flush()
    db.session.expire_all()

    from tts.callqueue.bands import refresh_bands

    refresh_bands(into)
    record_event(actor, "person.merge", into, {"merged": person.id, "moved": moved, "filled": filled,
                                               "contacts_closed": [c.id for c in clashing + own_case_contacts]})
    record_event(actor, "person.merged_away", person, {"into": into.id})
    return into
