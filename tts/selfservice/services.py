"""What a person does through their personal link: a case proves who they are with their date of birth,
answers the form's questions one page at a time (kept on the link as they go), and submits; a contact
confirms the advice, asks for a call, or reports symptoms.

Everything submitted goes through the services a tracer's entries do (validation, dedupe, households,
the queue, texts), marked as self-reported (`source="self_service"`), audited with the actor
"self-service" (`via="self"`, no user).
"""
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from tts.audit.services import record_event
from tts.auth.throttle import DatabaseThrottle
from tts.callqueue import events
from tts.callqueue.bands import BAND_CALLBACK
from tts.callqueue.models import QUEUE_STATUSES, ItemKind, WorkItem
from tts.callqueue.services import create_work_item
from tts.cases.corrections import correct_case
from tts.cases.intake import check_contact
from tts.cases.lifecycle import cancel_work
from tts.cases.models import Contact, ContactSource, ContactStatus, Relationship, ReachedBy
from tts.cases.services import add_contact
from tts.clock import today, utcnow
from tts.errors import ErrorCollector, ValidationFailed
from tts.extensions import db
from tts.people.languages import check_language
from tts.people.notes import add_note
from tts.outbreaks.services import add_mention
from tts.people.validation import PersonData
from tts.selfservice.alerts import raise_alert
from tts.selfservice.models import AlertKind, ContactResponse, LinkStatus, SelfServiceLink
from tts.support.models import SupportKind
from tts.support.services import create_support_need

SELF_REPORTED = "Self-reported online"
PLACES_MAX = 2000
MAX_PLACES = 10  # places a form's answer can name for matching (the rest stay in the note)
MAX_PEOPLE = 30  # on each list: enough for a household and a week's close contacts


def throttle() -> DatabaseThrottle:
    """Wrong birth dates and unknown tokens, per link and per address, in the sign-in throttle's table
    (shared by every server), under keys of their own."""
    return DatabaseThrottle(max_account=current_app.config["TTS_SELF_SERVICE_MAX_TRIES"],
                            max_address=current_app.config["TTS_SELF_SERVICE_MAX_FAILURES_ADDRESS"],
                            window=timedelta(minutes=15))


def _address_key(address: str | None) -> str:
    return f"self-service:{address or '-'}"


def address_blocked(address: str | None) -> int | None:
    """Seconds this address must wait, after too many unknown links or wrong birth dates."""
    return throttle().retry_after("", _address_key(address))


def unknown_token(address: str | None) -> None:
    """A token that opens nothing counts against the address, so links cannot be guessed at speed."""
    throttle().failed("", _address_key(address))


# --- Proving who they are ----------------------------------------------------------------------------------


@dataclass
class Verification:
    ok: bool
    tries_left: int = 0
    locked: bool = False


def verify_birth_date(link: SelfServiceLink, entered: date, address: str | None, now: datetime | None = None) -> Verification:
    """Compare the date of birth in constant time. Each wrong answer counts against the link and the
    address; after TTS_SELF_SERVICE_MAX_TRIES the link locks and supervisors are told."""
    now = now or utcnow()
    known = link.person.date_of_birth
    ok = known is not None and hmac.compare_digest(known.isoformat().encode(), entered.isoformat().encode())
    if ok:
        if link.status == LinkStatus.NOT_STARTED:
            link.status, link.started_at = LinkStatus.STARTED, now
        db.session.flush()
        record_event(None, "self_service.verify", link, {"person_id": link.person_id, "ok": True})
        return Verification(True)
    link.failed_attempts += 1
    throttle().failed("", _address_key(address))
    most = current_app.config["TTS_SELF_SERVICE_MAX_TRIES"]
    locked = link.failed_attempts >= most
    if locked:
        link.status, link.locked_at = LinkStatus.LOCKED, now
        raise_alert(AlertKind.LINK_LOCKED, link.person, f"{most} wrong dates of birth on their personal link: "
                    "call them to check who they are, and send a new link from their page if it was them")
    db.session.flush()
    record_event(None, "self_service.verify", link, {"person_id": link.person_id, "ok": False,
                                                     "locked": locked})
    return Verification(False, tries_left=max(0, most - link.failed_attempts), locked=locked)


# --- A case's answers ---------------------------------------------------------------------------------------


def answers(link: SelfServiceLink) -> dict:
    return dict(link.answers or {})


def save_answers(link: SelfServiceLink, **values) -> dict:
    """Keep what they answered on one page (a new dict, so the JSON column sees the change)."""
    saved = {**answers(link), **values}
    link.answers = saved
    if link.status == LinkStatus.NOT_STARTED:
        link.status, link.started_at = LinkStatus.STARTED, utcnow()
    db.session.flush()
    return saved


def last_contact_for_household(case) -> date:
    """They live with the case: in contact until today (or the end of the case's isolation, if sooner)."""
    return min(today(), case.isolation_end_date)


def check_person(link: SelfServiceLink, entry: dict, relationship: str) -> None:
    """One person they named, checked by the rules a tracer's entry meets (ValidationFailed, keyed by the
    form's fields), before it is kept on their list."""
    case = link.case
    when = last_contact_for_household(case) if relationship == Relationship.HOUSEHOLD else _date(entry.get("last_contact"))
    try:
        check_contact(case, _person(entry), relationship=relationship, last_exposure_date=when)
    except ValidationFailed as exc:
        raise ValidationFailed({_FIELDS.get(field, field): messages for field, messages in exc.errors.items()}) from None
    errors = ErrorCollector()
    if len(answers(link).get(_LISTS[relationship], [])) >= MAX_PEOPLE:
        errors.add("first_name", f"You can list up to {MAX_PEOPLE} people here. Call us to tell us about more")
    errors.raise_if_any()


_FIELDS = {"person.first_name": "first_name", "person.last_name": "last_name", "person.phone": "phone",
           "last_exposure_date": "last_contact", "relationship": "first_name"}
_LISTS = {Relationship.HOUSEHOLD: "household", Relationship.CLOSE: "contacts"}


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _person(entry: dict) -> PersonData:
    return PersonData(first_name=entry.get("first_name"), last_name=entry.get("last_name"),
                      phone=entry.get("phone") or None)


def support_kinds() -> dict[str, str]:
    from tts.support.models import KIND_LABELS

    return {kind.value: KIND_LABELS[kind] for kind in SupportKind}


def complete_case_form(link: SelfServiceLink, now: datetime | None = None) -> dict:
    """Submit a case's answers: the onset date corrected, each person added as a contact (household or
    close), where they went kept as a note, each kind of help asked for logged as a support need, their
    language set, and the first call brought forward (a shorter check-and-support call). Every problem is
    reported at once (ValidationFailed, keyed by the page to go back to) and nothing is written unless all
    of it can be. Returns counts for the confirmation page."""
    now = now or utcnow()
    case = link.case
    given = answers(link)
    errors = ErrorCollector()
    if not link.is_usable(now) or link.status == LinkStatus.COMPLETED:
        errors.add("link", "This link can no longer be used")
        errors.raise_if_any()
    if given.get("symptoms") not in ("yes", "no"):
        errors.add("symptoms", "Tell us whether you have had symptoms")
    onset = _date(given.get("onset_date")) if given.get("symptoms") == "yes" else None
    if given.get("symptoms") == "yes" and onset is None:
        errors.add("symptoms", "Tell us the date your symptoms started")
    language = given.get("language") or None
    if language:
        check_language(errors, "language", language)
    errors.raise_if_any()

    if onset is not None and onset != case.symptom_onset_date:
        try:
            correct_case(None, case, reason=SELF_REPORTED, symptom_onset_date=onset)
        except ValidationFailed as exc:
            raise ValidationFailed({"symptoms": [m for ms in exc.errors.values() for m in ms]}) from None
    added = {"household": 0, "contacts": 0}
    for key, relationship in (("household", Relationship.HOUSEHOLD), ("contacts", Relationship.CLOSE)):
        for n, entry in enumerate(given.get(key, []), start=1):
            when = last_contact_for_household(case) if key == "household" else _date(entry.get("last_contact"))
            try:
                with db.session.begin_nested():
                    add_contact(None, case, _person(entry), relationship=relationship, last_exposure_date=when,
                                source=ContactSource.SELF_SERVICE)
                added[key] += 1
            except ValidationFailed as exc:
                name = f"{entry.get('first_name', '')} {entry.get('last_name', '')}".strip()
                for messages in exc.errors.values():
                    for message in messages:
                        errors.add(key, f"{name}: {message}")
    places = (given.get("places") or "").strip()
    if places:
        add_note(None, case.person, f"{SELF_REPORTED}, where they went: {places[:PLACES_MAX]}", case=case)
        # Each place on a line of its own, for a supervisor to match to the settings register.
        for line in [line.strip(" -•\t") for line in places[:PLACES_MAX].splitlines()][:MAX_PLACES]:
            if line:
                add_mention(case, line, source="self_service")
    needs = 0
    for kind in given.get("support", []):
        create_support_need(None, case.person, kind=kind, urgency="this_week",
                            notes=f"{SELF_REPORTED}: {(given.get('support_detail') or '').strip()}".rstrip(": "))
        needs += 1
    if language and language != case.person.language:
        case.person.language = language
    errors.raise_if_any()
    _bring_first_call_forward(case, now)
    link.status, link.completed_at = LinkStatus.COMPLETED, now
    db.session.flush()
    record_event(None, "self_service.complete", link, {"person_id": link.person_id, "case_id": case.id,
                                                       "household": added["household"], "contacts": added["contacts"],
                                                       "support_needs": needs})
    return {**added, "support_needs": needs}


def _bring_first_call_forward(case, now: datetime) -> None:
    """A first call held for the online form is due now: the form is in, the call checks it."""
    for item in db.session.scalars(select(WorkItem).where(
            WorkItem.case_id == case.id, WorkItem.kind == ItemKind.INITIAL_CALL,
            WorkItem.status.in_(QUEUE_STATUSES), WorkItem.due_at > now)):
        item.due_at = now


# --- A contact's answer -------------------------------------------------------------------------------------


def contact_respond(link: SelfServiceLink, response: str | None, now: datetime | None = None) -> Contact:
    """A contact's answer to their advice text. Confirmed: reached by text (their first call is cancelled,
    unless they are a household contact and TTS_TEXT_CONFIRMED_HOUSEHOLD_CALL keeps it). Call me: a
    callback. Symptoms: a priority call (band 1) and an alert for supervisors."""
    now = now or utcnow()
    errors = ErrorCollector()
    if response not in ContactResponse.labels():
        errors.add("response", "Choose what you want to tell us")
    if not link.is_usable(now):
        errors.add("response", "This link can no longer be used")
    errors.raise_if_any()
    contact = link.contact
    link.response, link.status, link.completed_at = response, LinkStatus.COMPLETED, now
    if response == ContactResponse.CONFIRMED:
        if contact.status == ContactStatus.OPEN:
            keep_call = (contact.relationship_ == Relationship.HOUSEHOLD
                         and current_app.config["TTS_TEXT_CONFIRMED_HOUSEHOLD_CALL"])
            if not keep_call:
                cancel_work(contact, "Confirmed the advice by text", spare_live_claims=True)
            contact.status = ContactStatus.REACHED
            contact.reached_by = ReachedBy.TEXT
            events.person_reached.fire(None, _subject_item(contact), via=ReachedBy.TEXT.value)
    elif response == ContactResponse.CALL_ME:
        create_work_item(None, kind=ItemKind.CALLBACK, person=contact.person, contact=contact)
    else:
        item = create_work_item(None, kind=ItemKind.CALLBACK, person=contact.person, contact=contact,
                                band=BAND_CALLBACK)
        raise_alert(AlertKind.SYMPTOMS, contact.person,
                    f"Reported symptoms from their advice text: a priority call is in the queue (item {item.id})")
    db.session.flush()
    record_event(None, "self_service.contact_respond", link, {"person_id": link.person_id,
                                                             "contact_id": contact.id, "response": response})
    return contact


def _subject_item(contact: Contact):
    """The item the reached hook is given: the contact's latest work (its first call)."""
    item = db.session.scalar(select(WorkItem).where(WorkItem.contact_id == contact.id).order_by(WorkItem.id.desc()).limit(1))
    if item is None:  # no call was ever queued (a hook still needs the contact and person)
        item = WorkItem(kind=ItemKind.INITIAL_CALL, person=contact.person, contact=contact, person_id=contact.person_id)
    return item
