"""Correcting a case or contact after it was logged: a reason is required; isolation and quarantine end
dates are worked out again by the policy the record was created under; texts planned from the old dates
move with them; the audit event and the person's timeline name the fields changed, never their values."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from tts.audit.services import record_event
from tts.callqueue.bands import refresh_bands
from tts.cases.models import Case, Contact, Correction, Relationship
from tts.clock import LONDON, utcnow
from tts.errors import ErrorCollector, ValidationFailed
from tts.extensions import db
from tts.people.services import ensure_household, update_person
from tts.people.validation import PersonData, check_recent
from tts.selfservice.models import CheckIn
from tts.telephony.models import Message, MessageStatus

REASON_MAX = 1000
FIELD_LABELS = {"test_date": "test date", "symptom_onset_date": "onset date", "relationship": "relationship",
                "last_exposure_date": "last contact date", "first_name": "first name", "last_name": "last name",
                "date_of_birth": "date of birth", "phone": "phone number", "email": "email address",
                "address": "address", "postcode": "postcode", "is_vulnerable": "vulnerability",
                "has_sms_opt_out": "text opt-out"}


class Unchanged:
    """A field the correction leaves as it is (None would mean "no onset date")."""


UNCHANGED = Unchanged()


@dataclass
class Corrected:
    record: Case | Contact
    fields: list[str]


def _reason(errors: ErrorCollector, reason: str | None) -> str | None:
    reason = (reason or "").strip()
    if not reason:
        errors.add("reason", "Say why it is being corrected")
    elif len(reason) > REASON_MAX:
        errors.add("reason", f"The reason must be {REASON_MAX:,} characters or fewer")
    return reason or None


def _record(actor, record, fields: list[str], reason: str) -> None:
    kind = "case" if isinstance(record, Case) else "contact"
    db.session.add(Correction(person_id=record.person_id, case_id=record.id if kind == "case" else None,
                              contact_id=record.id if kind == "contact" else None,
                              actor_id=getattr(actor, "id", None), fields=fields, reason=reason))
    db.session.flush()
    record_event(actor, f"{kind}.correct", record, {"person_id": record.person_id, "fields": fields})


def correct_case(actor, case: Case, *, reason: str | None, test_date: date | None | Unchanged = UNCHANGED,
                 symptom_onset_date: date | None | Unchanged = UNCHANGED, person: PersonData | None = None) -> Corrected:
    """Correct the case's dates and the person's details; the isolation end date is worked out again by the
    policy the case was logged under, and texts planned from it move with it."""
    errors = ErrorCollector()
    why = _reason(errors, reason)
    new_test = case.test_date if test_date is UNCHANGED else test_date
    new_onset = case.symptom_onset_date if symptom_onset_date is UNCHANGED else symptom_onset_date
    if new_test is None:
        errors.add("test_date", "Enter the test date")
    check_recent(errors, "test_date", new_test, "Test date")
    check_recent(errors, "symptom_onset_date", new_onset, "Symptom onset date")
    errors.raise_if_any()
    fields = [name for name, old, new in (("test_date", case.test_date, new_test),
                                          ("symptom_onset_date", case.symptom_onset_date, new_onset)) if old != new]
    case.test_date, case.symptom_onset_date = new_test, new_onset
    case.isolation_end_date = case.policy.isolation_end(new_test, new_onset)
    if person is not None:
        before = _person_values(case.person)
        given = {name: getattr(person, name) for name in before if getattr(person, name) is not None}
        try:
            update_person(actor, case.person, PersonData(**{**before, **given}))
        except ValidationFailed as exc:
            raise ValidationFailed({f"person.{key}": messages for key, messages in exc.errors.items()}) from None
        fields += [name for name, value in _person_values(case.person).items() if before[name] != value]
    if not fields:
        errors.add("reason", "Nothing was changed")
        errors.raise_if_any()
    _move_planned_texts(case.person_id, case=case)
    _record(actor, case, fields, why)
    return Corrected(case, fields)


def correct_contact(actor, contact: Contact, *, reason: str | None, relationship: str | None | Unchanged = UNCHANGED,
                    last_exposure_date: date | None | Unchanged = UNCHANGED) -> Corrected:
    """Correct a contact's relationship and last contact date (within the case's infectious period); the
    quarantine end date is worked out again by the contact's policy; a household contact lives with the
    case (moved to its household), anyone else at their own address; the queue's bands follow."""
    errors = ErrorCollector()
    why = _reason(errors, reason)
    new_relationship = contact.relationship_ if relationship is UNCHANGED else relationship
    new_exposure = contact.last_exposure_date if last_exposure_date is UNCHANGED else last_exposure_date
    if new_relationship not in {r.value for r in Relationship}:
        errors.add("relationship", "Choose household, close or setting")
    case = contact.case
    if new_exposure is None:
        errors.add("last_exposure_date", "Enter the date of last contact with the case")
    else:
        check_recent(errors, "last_exposure_date", new_exposure, "Date of last contact")
        start = case.policy.infectious_from(case.test_date, case.symptom_onset_date)
        if "last_exposure_date" not in errors and not start <= new_exposure <= case.isolation_end_date:
            errors.add("last_exposure_date", f"Date of last contact must be between {start:%-d %B %Y} and "
                                             f"{case.isolation_end_date:%-d %B %Y}, when the case was infectious")
    errors.raise_if_any()
    fields = [name for name, old, new in (("relationship", contact.relationship_, new_relationship),
                                          ("last_exposure_date", contact.last_exposure_date, new_exposure))
              if old != new]
    if not fields:
        errors.add("reason", "Nothing was changed")
        errors.raise_if_any()
    contact.relationship_, contact.last_exposure_date = new_relationship, new_exposure
    contact.quarantine_end_date = contact.policy.quarantine_end(new_exposure)
    if "relationship" in fields:
        subject = contact.person
        if new_relationship == Relationship.HOUSEHOLD:
            subject.household = ensure_household(case.person)
        elif subject.household_id is not None and subject.household_id == case.person.household_id:
            subject.household = None  # they do not live with the case after all: their own address's
            ensure_household(subject)
        db.session.flush()
        refresh_bands(subject)
    _move_planned_texts(contact.person_id, contact=contact)
    _record(actor, contact, fields, why)
    return Corrected(contact, fields)


def _person_values(person) -> dict:
    return {name: getattr(person, name) for name in ("first_name", "last_name", "date_of_birth", "phone", "email",
                                                     "address", "postcode")}


def _move_planned_texts(person_id: int, *, case: Case | None = None, contact: Contact | None = None) -> None:
    """Check-ins planned for days of the isolation or quarantine move with the corrected dates (and are
    not sent if their day now falls after the end)."""
    if case is not None:
        start, end, column, record_id = case.symptom_onset_date or case.test_date, case.isolation_end_date, CheckIn.case_id, case.id
    else:
        start, end, column, record_id = contact.last_exposure_date, contact.quarantine_end_date, CheckIn.contact_id, contact.id
    now = utcnow()
    planned = db.session.execute(select(CheckIn, Message).join(Message, Message.id == CheckIn.message_id).where(
        column == record_id, CheckIn.cancelled_at.is_(None), Message.status == MessageStatus.QUEUED,
        Message.next_attempt_at > now))
    for checkin, message in planned:
        day = start + timedelta(days=checkin.day)
        send_at = datetime.combine(day, datetime.min.time().replace(hour=10), tzinfo=LONDON)
        if day > end or send_at <= now:
            message.status, message.next_attempt_at = MessageStatus.SKIPPED, None
            message.error_message = "Not sent: the corrected dates end before its day"
            checkin.cancelled_at = now
        else:
            message.next_attempt_at = checkin.due_at = send_at
            checkin.send_on = day


DETAILS = ("first_name", "last_name", "date_of_birth", "phone", "email", "address", "postcode")


def correct_person(actor, person, data: PersonData, *, reason: str | None, is_vulnerable: bool | None = None,
                   has_sms_opt_out: bool | None = None) -> list[str]:
    """Correct a person's details (the person page's "Change details"): a change to who they are or how to
    reach them needs a reason, and the timeline shows it; flags (vulnerable, no texts) need none. Returns
    the fields changed."""
    before = _person_values(person)
    errors = ErrorCollector()
    why = (reason or "").strip()
    if len(why) > REASON_MAX:
        errors.add("reason", f"The reason must be {REASON_MAX:,} characters or fewer")
    try:
        update_person(actor, person, data, is_vulnerable=is_vulnerable, has_sms_opt_out=has_sms_opt_out)
    except ValidationFailed as exc:
        for key, messages in exc.errors.items():
            for message in messages:
                errors.add(key, message)
    changed = [name for name in DETAILS if before[name] != getattr(person, name)]
    if changed and not why and "reason" not in errors:
        errors.add("reason", "Say why their details are being corrected")
    errors.raise_if_any()
    if changed:
        db.session.add(Correction(person_id=person.id, actor_id=getattr(actor, "id", None), fields=changed,
                                  reason=why))
        db.session.flush()
    return changed
