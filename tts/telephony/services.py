"""SMS through the outbox, status callbacks, replies and masked calls."""
import time
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from tts.audit.services import record_event
from tts.callqueue import events
from tts.callqueue.errors import NotClaimHolder
from tts.callqueue.models import CallAttempt, ItemKind
from tts.callqueue.services import create_work_item
from tts.cases.models import FINISHED_STATUSES, Case, Contact
from tts.cache import for_transaction, forget_for_transaction
from tts.clock import LONDON, utcnow
from tts.errors import DomainError, ErrorCollector
from tts.extensions import db
from tts.jobs import LOCK_RECONCILE, job
from tts.people.languages import ENGLISH
from tts.people.languages import name_of as language_name
from tts.people.models import Person
from tts.people.validation import format_phone, is_mobile  # noqa: F401 (is_mobile: used here and re-exported)
from tts.support import events as support_events
from tts.selfservice import checkins, links
from tts.selfservice.models import CheckIn, SelfServiceLink
from tts.telephony.client import DeliveryError, gateway
from tts.telephony.models import (
    STATUS_RANK,
    Message,
    MessageStatus,
    MessageTemplate,
    PhoneCall,
    Trigger,
    WebhookEvent,
)
from tts.telephony.templates import check_template, render, segments

log = logging.getLogger(__name__)

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO"}
ERROR_REASONS = {
    21211: "The phone number is not valid",
    21408: "Texting this country is not enabled on the account",
    21610: "They have replied STOP to our texts",
    21612: "This number cannot receive texts from us",
    21614: "The number is not a mobile, so it cannot receive texts",
    20003: "Twilio rejected the account credentials: tell an administrator",
    20429: "Twilio was too busy; gave up after retrying",
    30003: "The phone was switched off or out of signal",
    30004: "The message was blocked by the recipient's network or phone",
    30005: "The number is unknown or no longer in use",
    30006: "The number cannot receive texts (a landline, or an unreachable network)",
    30007: "The network filtered the message as spam",
    30008: "The network reported an unknown error",
}


def reason_for(code: int | None, fallback: str | None = None) -> str | None:
    if code is None:
        return fallback
    return ERROR_REASONS.get(code, fallback or f"Twilio error {code}")


# --- Templates -------------------------------------------------------------------------------------------


LINKED_TRIGGERS = frozenset({Trigger.INTRODUCTION, Trigger.CONTACT_ADVICE})


def get_template(trigger: str, language: str | None = None) -> MessageTemplate | None:
    """The template for a trigger: the English one, which decides whether the text is sent at all, or with
    `language` the wording for it. All of them (a few dozen rows) are read by the transaction's first text,
    once: a reached call queues two texts, and a whole call's outcome texts everyone on it."""
    templates = for_transaction("templates", lambda: {
        (template.trigger, template.language): template for template in db.session.scalars(select(MessageTemplate))})
    return templates.get((trigger, language or ENGLISH))


def wording(trigger: str, language: str | None) -> MessageTemplate | None:
    """The template a text to someone with this language uses: its translation if there is one and it is
    on, else English. None when the text itself (its English template) is off."""
    english = get_template(trigger)
    if english is None or not english.is_enabled:
        return None
    if language and language != ENGLISH:
        translated = get_template(trigger, language)
        if translated is not None and translated.is_enabled:
            return translated
    return english


def list_templates() -> list[MessageTemplate]:
    """The English templates (the texts themselves), each with `translations` (the other languages')."""
    rows = list(db.session.scalars(select(MessageTemplate).order_by(MessageTemplate.id)))
    english = [t for t in rows if t.language == ENGLISH]
    for template in english:
        template.translations = sorted((t for t in rows if t.trigger == template.trigger and t.language != ENGLISH),
                                       key=lambda t: language_name(t.language))
    return english


def update_template(actor, template: MessageTemplate, *, body: str, is_enabled: bool,
                    reviewed: bool | None = None) -> MessageTemplate:
    """Save a text's wording. A translation saved without `reviewed` is awaiting review by a translator again;
    with it, the administrator confirms a qualified translator has checked this wording."""
    errors = ErrorCollector()
    check_template(body, errors)
    if template.trigger in LINKED_TRIGGERS and "{link}" not in (body or ""):
        errors.add("body", "Keep {link} in this message: it is how people tell us their contacts or confirm "
                           "the advice without a call")
    errors.raise_if_any()
    template.body = body.strip()
    template.is_enabled = is_enabled
    if template.language != ENGLISH and reviewed is not None:
        template.needs_review = not reviewed
        if reviewed:
            template.reviewed_at, template.reviewed_by_id = utcnow(), getattr(actor, "id", None)
    template.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    forget_for_transaction()
    record_event(actor, "template.update", template, {"trigger": template.trigger, "language": template.language,
                                                      "is_enabled": is_enabled, "needs_review": template.needs_review})
    return template


def sample_values() -> dict[str, str]:
    return {"first_name": "Sam", "team_phone": team_phone(), "end_date": "Friday 4 December",
            "case_reference": "TTS-7K2Q9", "link": links.link_url("x" * 32)}


def preview(body: str) -> dict:
    errors = ErrorCollector()
    check_template(body, errors)
    text = render(body or "", sample_values())
    encoding, count = segments(text)
    return {"text": text, "encoding": encoding, "segments": count, "characters": len(text),
            "errors": errors.errors.get("body", [])}


def team_phone() -> str:
    return format_phone(current_app.config.get("TWILIO_CALLER_ID")) or current_app.config.get(
        "TTS_TEAM_PHONE", "0114 496 0000")


def template_values(person: Person, case=None, contact=None, link: str = "", language: str | None = None) -> dict[str, str]:
    """The values a text's placeholders are filled with, for this person and their case or contact. In a
    translation the date is written with numbers (4/12/2026), which every language reads."""
    end = None
    if case is not None:
        end = case.isolation_end_date
    elif contact is not None:
        end = contact.quarantine_end_date
    written = (f"{end:%A %-d %B}" if not language or language == ENGLISH else f"{end:%-d/%-m/%Y}") if end else ""
    return {"first_name": person.first_name, "team_phone": team_phone(),
            "end_date": written,
            "case_reference": case.reference if case is not None else "", "link": link}


# --- Queueing -------------------------------------------------------------------------------------------


def queue_sms(actor, person: Person, trigger: str, *, case=None, contact=None, work_item=None,
              send_at: datetime | None = None) -> Message | None:
    """Write an outbound text to the outbox in the caller's transaction; the worker sends it later.
    Opted-out people and landlines get a `skipped` row, so the timeline says why nothing was sent."""
    template = wording(trigger, person.language)
    if template is None or not person.phone:
        return None
    reason = skip_reason(person)
    link = ""
    if "{link}" in template.body and not reason and links.enabled() and (case is not None or contact is not None):
        # A personal link only in a text that will go: one issued for a skipped text would never be seen.
        _, token = links.issue_link(actor, person, case=case, contact=contact if case is None else None)
        link = links.link_url(token)
    message = Message(person_id=person.id, direction="outbound", channel="sms", trigger=trigger,
                      to_number=person.phone,
                      body=render(template.body, template_values(person, case, contact, link, template.language)),
                      status=MessageStatus.QUEUED, next_attempt_at=send_at or utcnow(),
                      work_item_id=getattr(work_item, "id", None), status_updated_at=utcnow())
    if reason:
        _skip(message, reason)
    db.session.add(message)
    db.session.flush()
    record_event(actor, "message.queue", message, {"person_id": person.id, "trigger": trigger,
                                                   "status": message.status})
    return message


def skip_reason(person) -> str | None:
    """Why a text to this person is written as skipped instead of sent, if it is."""
    if person.has_sms_opt_out:
        return "Not sent: they have opted out of texts"
    if not is_mobile(person.phone):
        return "Not sent: the number is not a mobile (calls still work)"
    return None


def _skip(message: Message, reason: str) -> None:
    message.status = MessageStatus.SKIPPED
    message.error_message = reason
    message.next_attempt_at = None


@events.item_created.register
def on_item_created(actor, item) -> None:
    """Introduction before the first call, once per person."""
    if item.kind != "initial_call" or item.status != "open":
        return
    already = db.session.scalar(select(exists().where(
        Message.person_id == item.person_id, Message.trigger.in_((Trigger.INTRODUCTION, Trigger.CONTACT_ADVICE)))))
    if already:
        return
    if item.contact is not None:  # a contact's first text is the advice itself, with their link to confirm it
        advice = get_template(Trigger.CONTACT_ADVICE)
        if advice is not None and advice.is_enabled:
            queue_sms(actor, item.person, Trigger.CONTACT_ADVICE, contact=item.contact, work_item=item)
            return
    queue_sms(actor, item.person, Trigger.INTRODUCTION, case=item.case, contact=item.contact, work_item=item)


@support_events.arranged.register
def on_support_arranged(actor, need) -> None:
    queue_sms(actor, need.person, Trigger.SUPPORT_ARRANGED)


@events.call_failed.register
def on_call_failed(actor, item) -> None:
    queue_sms(actor, item.person, Trigger.MISSED_CALL, case=item.case, contact=item.contact, work_item=item)


@events.person_reached.register
def on_reached(actor, item, via: str = "call") -> None:
    """Isolation advice with the end date (not for a contact who confirmed the advice text: they have it),
    and check-ins on the days in TTS_CHECKIN_DAYS."""
    if via != "text":
        queue_sms(actor, item.person, Trigger.ISOLATION_ADVICE, case=item.case, contact=item.contact, work_item=item)
    schedule_checkins(actor, item)


def checkin_days() -> list[int]:
    return sorted({int(day) for day in str(current_app.config.get("TTS_CHECKIN_DAYS") or "").split(",")
                   if day.strip().isdigit() and int(day) > 0})


def schedule_checkins(actor, item) -> list[CheckIn]:
    """A check-in text at 10:00 on each day in TTS_CHECKIN_DAYS after isolation started, while it lasts
    (once per record: reaching someone twice plans nothing more)."""
    template = get_template(Trigger.CHECKIN)
    if template is None or not template.is_enabled or not item.person.phone:
        return []
    if item.case is not None:
        start, end, record = item.case.symptom_onset_date or item.case.test_date, item.case.isolation_end_date, {"case_id": item.case.id}
    elif item.contact is not None:
        start, end, record = item.contact.last_exposure_date, item.contact.quarantine_end_date, {"contact_id": item.contact.id}
    else:
        return []
    column = CheckIn.case_id if "case_id" in record else CheckIn.contact_id
    if db.session.scalar(select(exists().where(column == next(iter(record.values()))))):
        return []
    planned = []
    for day in checkin_days():
        send_on = start + timedelta(days=day)
        send_at = datetime.combine(send_on, datetime.min.time().replace(hour=10), tzinfo=LONDON)
        if send_on > end or send_at <= utcnow():
            continue
        message = queue_sms(actor, item.person, Trigger.CHECKIN, case=item.case, contact=item.contact,
                            work_item=item, send_at=send_at)
        if message is None or message.status == MessageStatus.SKIPPED:
            continue
        checkin = CheckIn(person_id=item.person.id, day=day, send_on=send_on, due_at=send_at, message_id=message.id,
                          **record)
        db.session.add(checkin)
        planned.append(checkin)
    db.session.flush()
    return planned


# --- Delivering (the worker) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """What sending one claimed text needs, read in the claim's transaction (none is held while sending)."""

    id: int
    to: str
    body: str
    since: datetime | None
    lookup: bool


def claim_due_messages(now: datetime, limit: int = 50) -> list[Outgoing]:
    """Take due outbox rows for this worker: SKIP LOCKED on PostgreSQL, so two workers never share one.
    Texts to people who opted out since they were queued are skipped here, in the same statement."""
    rows = db.session.execute(
        select(Message, Person.has_sms_opt_out).outerjoin(Person, Person.id == Message.person_id)
        .where(Message.status == MessageStatus.QUEUED, Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at, Message.id).limit(limit)
        .with_for_update(skip_locked=True, of=Message)).all()
    taken = []
    for message, opted_out in rows:
        if opted_out:
            _skip(message, "Not sent: they opted out before it went")
            message.status_updated_at = now
            continue
        message.status = MessageStatus.SENDING
        message.sending_started_at = message.sending_started_at if message.needs_lookup else now
        message.attempts += 1
        message.status_updated_at = now
        taken.append(Outgoing(message.id, message.to_number, message.body, message.sending_started_at,
                              message.needs_lookup))
    return taken


@job("sent")
def deliver_due(now: datetime | None = None, limit: int = 50):
    """Send what is due. The batch is claimed (one step), each text sent to Twilio outside any transaction
    and its send recorded (one step a text, so a crash loses at most the record of one send, which the
    next attempt looks up in Twilio's list before sending again). Returns how many were handled."""
    now = now or utcnow()
    taken = claim_due_messages(now, limit)
    yield "the batch is claimed: no other worker takes it, and no lock is held while Twilio is called"
    # A claim is only sent soon after it was made: a worker slowed by a slow Twilio gives the rest back
    # instead of starting sends late. So every send starts within TTS_OUTBOX_SEND_WINDOW_SECONDS of its claim
    # and ends within the HTTP time-out after that, and a claim older than TTS_OUTBOX_ORPHAN_MINUTES can only
    # be a crashed worker's (reconcile hands those on, to be looked up in Twilio before any send).
    window = current_app.config["TTS_OUTBOX_SEND_WINDOW_SECONDS"]
    started = time.monotonic()
    for n, outgoing in enumerate(taken):
        if n and time.monotonic() - started > window:
            _release_unsent([o.id for o in taken[n:]])
            return n
        yield from deliver_one(outgoing)
    return len(taken)


def _release_unsent(ids: list[int]) -> None:
    """Claimed but never handed to Twilio: straight back to the queue (no look-up needed)."""
    db.session.execute(update(Message).where(
        Message.id.in_(ids), Message.status == MessageStatus.SENDING, Message.twilio_sid.is_(None),
        Message.needs_lookup.is_(False)).values(status=MessageStatus.QUEUED, attempts=Message.attempts - 1,
                                                sending_started_at=None))


def deliver_one(outgoing: Outgoing):
    status_callback = public_url("/twilio/sms/status")
    try:
        sent = (gateway().find_sent(to=outgoing.to, body=outgoing.body, since=outgoing.since)
                if outgoing.lookup else None)
        if sent is None:
            sent = gateway().send_sms(to=outgoing.to, body=outgoing.body, status_callback=status_callback)
    except DeliveryError as error:
        _record_failure(outgoing.id, error)
    else:
        # One UPDATE, no read first. No callback comes for the first status: take it from the response.
        db.session.execute(update(Message).where(Message.id == outgoing.id).values(
            twilio_sid=sent.sid, from_number=getattr(gateway(), "sender", None),
            status=MessageStatus.SENT if sent.status == "sent" else MessageStatus.SENDING,
            needs_lookup=False, error_code=None, error_message=None, status_updated_at=utcnow()))
    yield "this send is on record before the next is made"


def _record_failure(message_id: int, error: DeliveryError) -> None:
    message = db.session.get(Message, message_id)
    max_attempts = current_app.config["TTS_SMS_MAX_ATTEMPTS"]
    message.error_code = error.code
    message.status_updated_at = utcnow()
    # Transient trouble (timeouts, 5xx, refused connections, 429) is retried for as long as the give-up
    # window lasts, however many tries that takes: a Twilio outage of a few hours loses no message.
    window = timedelta(hours=current_app.config["TTS_SMS_GIVE_UP_HOURS"])
    first_try = message.created_at
    exhausted = message.attempts >= max_attempts and utcnow() - first_try >= window
    if error.kind == "permanent" or exhausted:
        message.status = MessageStatus.FAILED
        message.next_attempt_at = None
        message.error_message = reason_for(error.code, str(error))
        if error.kind != "permanent":
            message.error_message = f"Gave up after {message.attempts} tries: {error}"
        if error.code == 21610 and message.person is not None:
            _opt_out_number(message.to_number, "twilio 21610")
        if error.code == 20003:
            log.error("Twilio rejected the credentials (error 20003): check TWILIO_* settings")
            record_event(None, "twilio.credentials_rejected", message)
        return
    message.status = MessageStatus.QUEUED
    message.needs_lookup = message.needs_lookup or error.kind == "ambiguous"
    message.error_message = f"Will retry: {error}"
    base = current_app.config["TTS_SMS_RETRY_BASE_SECONDS"]
    delay = min(900, base * 2 ** (message.attempts - 1)) * random.uniform(0.8, 1.2)  # at most ~15 min apart
    message.next_attempt_at = utcnow() + timedelta(seconds=delay)


def public_url(path: str) -> str:
    return current_app.config["TTS_PUBLIC_URL"].rstrip("/") + path


# --- Callbacks and replies -------------------------------------------------------------------------------


def remember_event(key: str, kind: str) -> bool:
    """Store a callback's key; False when it was seen before (so the repeat changes nothing)."""
    if db.session.scalar(select(WebhookEvent.id).where(WebhookEvent.key == key)) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(WebhookEvent(key=key[:200], kind=kind))
    except IntegrityError:
        return False  # the same callback, delivered twice at once
    return True


def apply_message_status(sid: str, status: str, error_code: int | None = None) -> Message | None:
    """Move a message forward to `status`; a later status never goes back to an earlier one."""
    message = db.session.scalar(select(Message).where(Message.twilio_sid == sid).with_for_update())
    if message is None or status not in STATUS_RANK:
        return message
    if STATUS_RANK[status] <= STATUS_RANK.get(message.status, 0):
        return message  # a repeat, or a status that arrived late: never go backwards
    message.status = "sending" if status in ("queued", "accepted", "scheduled") else status
    message.status_updated_at = utcnow()
    if status in ("failed", "undelivered"):
        message.error_code = error_code
        message.error_message = reason_for(error_code, "The network could not deliver it")
        if error_code == 21610:
            _opt_out_number(message.to_number, "twilio 21610")
    return message


def _people_with_number(number: str) -> list[Person]:
    return list(db.session.scalars(select(Person).where(Person.phone == number, Person.merged_into_id.is_(None)).order_by(Person.id.desc())))


def _opt_out_number(number: str | None, via: str, opt_out: bool = True) -> list[Person]:
    people = _people_with_number(number) if number else []
    for person in people:
        if person.has_sms_opt_out != opt_out:
            person.has_sms_opt_out = opt_out
            record_event(None, "person.sms_opt_out" if opt_out else "person.sms_opt_in", person, {"via": via})
    return people


def receive_sms(*, sid: str, from_number: str, to_number: str | None, body: str) -> Message | None:
    """An inbound text: STOP/START/HELP are honoured; anything else lands on the timeline and asks for a
    callback; a number we do not know goes to the unmatched replies list."""
    sid = sid or None  # Twilio always sends one; an empty value must not collide in the unique column
    if sid and db.session.scalar(select(Message.id).where(Message.twilio_sid == sid)) is not None:
        return None  # Twilio retried the webhook
    try:
        sender = phonenumbers.format_number(phonenumbers.parse(from_number, "GB"), phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        sender = from_number
    people = _people_with_number(sender)
    recipient = reply_recipient(sender, people)
    keyword = body.strip().upper().rstrip(".!")
    message = Message(direction="inbound", channel="sms", from_number=sender, to_number=to_number, body=body,
                      status=MessageStatus.RECEIVED, twilio_sid=sid, status_updated_at=utcnow(),
                      person_id=recipient.id if recipient else None)
    db.session.add(message)
    if keyword in STOP_WORDS:
        _opt_out_number(sender, "reply STOP")
        message.error_message = "Opted out of texts"
    elif keyword in START_WORDS:
        _opt_out_number(sender, "reply START", opt_out=False)
        message.error_message = "Opted back in to texts"
    elif keyword in HELP_WORDS:
        message.error_message = "Asked for help (Twilio sends the standard help reply)"
    elif recipient is not None and checkins.is_reply(keyword) and checkins.record_reply(recipient, message, keyword):
        pass  # a check-in's answer: a call, a support need, or nothing more (checkins.record_reply)
    elif recipient is not None:
        request_callback(None, recipient, message)
    db.session.flush()
    record_event(None, "message.receive", message, {"person_id": message.person_id, "matched": recipient is not None,
                                                    "people_on_number": len(people)})
    return message


CLOSED_STATUSES = FINISHED_STATUSES  # a record with nothing left to do


def reply_recipient(number: str, people: list[Person]) -> Person | None:
    """Whose reply this is. One person on the number: theirs. Several, all of one household (a family
    sharing a phone): the one most recently texted from this number, preferring one whose case or contact
    record is still open. Several in different households: nobody's, and supervisors resolve it from the
    unmatched replies, where the people on the number are listed. Never simply the newest person with the
    number: anyone can type a number onto a new contact, and would then read its owner's replies."""
    if len(people) <= 1:
        return people[0] if people else None
    if len({p.household_id for p in people}) != 1 or people[0].household_id is None:
        return None
    ids = [p.id for p in people]
    open_record = (select(Case.person_id).where(Case.person_id.in_(ids), Case.status.not_in(CLOSED_STATUSES))
                   .union(select(Contact.person_id).where(Contact.person_id.in_(ids),
                                                          Contact.status.not_in(CLOSED_STATUSES))))
    open_ids = set(db.session.scalars(open_record))
    texted = db.session.execute(
        select(Message.person_id, func.max(Message.id)).where(
            Message.direction == "outbound", Message.to_number == number, Message.person_id.in_(ids))
        .group_by(Message.person_id)).all()
    latest = {person_id: last for person_id, last in texted}
    if not latest:
        return None
    chosen = max(latest, key=lambda pid: (pid in open_ids, latest[pid]))
    return next(p for p in people if p.id == chosen)


def request_callback(actor, person: Person, message: Message):
    """A reply asks for a call back: a callback item on the person's latest case or contact record."""
    case = db.session.scalar(select(Case).where(Case.person_id == person.id).order_by(Case.id.desc()))
    contact = None if case else db.session.scalar(
        select(Contact).where(Contact.person_id == person.id).order_by(Contact.id.desc()))
    if case is None and contact is None:
        return None
    return create_work_item(actor, kind=ItemKind.CALLBACK, person=person, case=case, contact=contact)


def people_on_numbers(numbers: set[str]) -> dict[str, list[tuple[Person, str | None]]]:
    """For the unmatched replies: each number's people, with their latest case reference, so a supervisor
    can tell whose a reply on a shared number is."""
    if not numbers:
        return {}
    latest = (select(Case.reference).where(Case.person_id == Person.id).order_by(Case.id.desc()).limit(1)
              .scalar_subquery())
    found: dict[str, list[tuple[Person, str | None]]] = {}
    for person, reference in db.session.execute(select(Person, latest).where(Person.phone.in_(numbers), Person.merged_into_id.is_(None))
                                                .order_by(Person.last_name, Person.first_name)):
        found.setdefault(person.phone, []).append((person, reference))
    return found


def unmatched_replies():
    return (select(Message).where(Message.direction == "inbound", Message.person_id.is_(None))
            .order_by(Message.created_at.desc()))


def attach_reply(actor, message: Message, person: Person) -> Message:
    if message.person_id is not None:
        raise DomainError("This reply is already attached to someone")
    message.person_id = person.id
    request_callback(actor, person, message)
    db.session.flush()
    record_event(actor, "message.attach", message, {"person_id": person.id})
    return message


@job("reconciled", lock=LOCK_RECONCILE)
def reconcile(now: datetime | None = None, limit: int = 100):
    """Re-fetch messages stuck short of a final status, and recover sends a crashed worker left."""
    now = now or utcnow()
    stale = now - timedelta(minutes=current_app.config["TTS_RECONCILE_AFTER_MINUTES"])
    abandoned = now - timedelta(minutes=current_app.config["TTS_OUTBOX_ORPHAN_MINUTES"])
    orphans = db.session.scalars(select(Message).where(
        Message.status == MessageStatus.SENDING, Message.twilio_sid.is_(None), Message.status_updated_at < abandoned)
        .with_for_update(skip_locked=True).limit(limit)).all()
    for message in orphans:  # the worker died between claiming and recording: Twilio may have it
        message.status = MessageStatus.QUEUED
        message.needs_lookup = True
        message.next_attempt_at = now
    # A text some networks never confirm stays "sent": after TTS_RECONCILE_MAX_HOURS it is left as it is,
    # instead of being looked up again every half hour for ever.
    too_old = now - timedelta(hours=current_app.config["TTS_RECONCILE_MAX_HOURS"])
    stuck = db.session.scalars(select(Message).where(
        Message.status.in_((MessageStatus.SENDING, MessageStatus.SENT)), Message.twilio_sid.is_not(None),
        Message.status_updated_at < stale, Message.created_at >= too_old).limit(limit)).all()
    sids = [m.twilio_sid for m in stuck]
    yield "the orphans are handed on, and no lock is held while Twilio is asked about each text"
    for sid in sids:
        try:
            status, code = gateway().fetch_message(sid)
        except DeliveryError:
            continue
        message = apply_message_status(sid, status, code)
        if message is not None:
            message.status_updated_at = utcnow()
        yield "each answer is on record before the next question"
    return len(orphans) + len(sids)


# --- Masked calls ----------------------------------------------------------------------------------------


def start_masked_call(user, item, now: datetime | None = None) -> PhoneCall:
    """Step one, in the request's transaction: check the claim and numbers, record the call."""
    now = now or utcnow()
    if not item.is_claimed_by(user, now):
        raise NotClaimHolder("You no longer hold this call")
    if not user.phone:
        raise DomainError("Add your phone number in Your details first: the system rings you, then connects you")
    if not item.person.phone:
        raise DomainError("There is no phone number for this person")
    call = PhoneCall(work_item_id=item.id, person_id=item.person_id, tracer_id=user.id, status="queued")
    db.session.add(call)
    db.session.flush()
    record_event(user, "phone_call.start", call, {"work_item_id": item.id, "person_id": item.person_id})
    return call


def masked_call(user, item, now: datetime | None = None):
    """Masked click-to-call, in steps (run with tts.transaction.run_steps): check the claim and numbers and
    record the call; once that is on record, ask Twilio to ring the tracer (the bridge TwiML then connects
    the person). Returns the call, "failed" with the reason if Twilio refused it."""
    call = start_masked_call(user, item, now)
    call_id, tracer_phone = call.id, user.phone
    yield "the call is on record before Twilio rings the tracer"
    try:
        sent = gateway().start_call(to=tracer_phone, url=public_url(f"/twilio/voice/bridge?call={call_id}"),
                                    status_callback=public_url("/twilio/voice/status"))
    except DeliveryError as error:
        call = db.session.get(PhoneCall, call_id)
        call.status = "failed"
        call.error_message = reason_for(error.code, str(error))
        return call
    call = db.session.get(PhoneCall, call_id)
    call.twilio_sid = sent.sid
    call.status = sent.status
    return call


def apply_call_status(sid: str, status: str, sequence: int | None, duration: int | None) -> PhoneCall | None:
    """Voice callbacks carry SequenceNumber: apply them in order, ignore any that arrive late."""
    call = db.session.scalar(select(PhoneCall).where(PhoneCall.twilio_sid == sid).with_for_update())
    if call is None:
        return None
    sequence = sequence if sequence is not None else call.last_sequence + 1
    if sequence <= call.last_sequence:
        return call
    call.last_sequence = sequence
    call.status = status
    if duration is not None:
        call.duration_seconds = duration
    for attempt in db.session.scalars(select(CallAttempt).where(CallAttempt.twilio_call_sid == sid)):
        attempt.call_status, attempt.duration_seconds = call.status, call.duration_seconds
    return call


def person_messages(person_id: int):
    return select(Message).where(Message.person_id == person_id).order_by(Message.created_at.desc(), Message.id.desc())


# --- Personal links, from the person page ------------------------------------------------------------------


def send_link_again(actor, person: Person, record) -> Message:
    """Text a case (their introduction) or a contact (their advice) again with a new personal link; the
    earlier link stops working. For a link that expired or locked, once staff know it is them."""
    if record is None or record.person_id != person.id:
        raise DomainError("Choose one of their cases or contact records")
    if record.status in FINISHED_STATUSES:
        raise DomainError(f"Their {'case' if isinstance(record, Case) else 'contact record'} is finished: "
                          "there is nothing to tell us online")
    reason = skip_reason(person) if person.phone else "Not sent: there is no phone number"
    if reason:
        raise DomainError(reason.replace("Not sent: ", "A link cannot be texted: "))
    case = record if isinstance(record, Case) else None
    trigger = Trigger.INTRODUCTION if case is not None else Trigger.CONTACT_ADVICE
    message = queue_sms(actor, person, trigger, case=case, contact=None if case is not None else record)
    if message is None:
        raise DomainError("That text is switched off (Administration, Text messages)")
    return message


def links_of(person_id: int) -> list[SelfServiceLink]:
    return list(db.session.scalars(select(SelfServiceLink).where(SelfServiceLink.person_id == person_id)
                                   .order_by(SelfServiceLink.id.desc()).limit(20)))
