"""What a call's outcome does: the attempt is recorded, then retried, escalated, handed on or closed.

The rules are the queue's own; what other features do about an outcome (texts, the household raise on a
doorstep visit) they register on tts/callqueue/events.py, so the queue never imports them.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from tts.audit.services import record_event
from tts.callqueue import events
from tts.callqueue.bands import raise_household
from tts.callqueue.hours import calling_day_end, retry_at
from tts.callqueue.models import FAILED_OUTCOMES, CallAttempt, ItemKind, ItemStatus, Outcome, WorkItem
from tts.callqueue.services import clear_claim, create_work_item, escalate_item, find_speaker, lock_held
from tts.clock import utcnow
from tts.errors import ErrorCollector
from tts.escalation.models import EscalationReason
from tts.extensions import db
from tts.people.languages import code_for
from tts.telephony.models import PhoneCall


@dataclass
class AttemptResult:
    attempt: CallAttempt
    item: WorkItem
    new_item: WorkItem | None = None  # the callback item, when one was arranged
    escalation: object | None = None
    raised: list[WorkItem] = field(default_factory=list)  # household members moved up the queue
    assigned_to: object | None = None  # language_barrier: who it went to


def record_attempt(user, item: WorkItem | int, *, outcome: str | None, notes: str | None = None,
                   callback_at: datetime | None = None, language: str | None = None,
                   claim_token: str | None = None, now: datetime | None = None) -> AttemptResult:
    """Record the outcome of a call the tracer made, then apply the retry and escalation rules."""
    now = now or utcnow()
    errors = ErrorCollector()
    _check_outcome(errors, outcome, callback_at, language, notes, now)
    errors.raise_if_any()
    return _apply_outcome(user, item, outcome=outcome, notes=notes, callback_at=callback_at, language=language,
                          claim_token=claim_token, now=now)


def record_call(user, held: list[tuple[WorkItem, str | None]], *, outcome: str | None, notes: str | None = None,
                callback_at: datetime | None = None, language: str | None = None,
                now: datetime | None = None) -> list[AttemptResult]:
    """One outcome for everyone on a call: the people sharing a number who were claimed together all get the
    same attempt ("no answer" on a household's phone is everyone's), with each person's own rules (retries,
    escalation, callback, texts) applied as if recorded one by one. `held` is (item, claim token) pairs;
    all or nothing: if any item is no longer held, NotClaimHolder and the caller rolls back."""
    now = now or utcnow()
    errors = ErrorCollector()
    if not held:
        errors.add("items", "Choose who was on the call")
    elif len({item.id for item, _ in held}) != len(held):
        errors.add("items", "List each person on the call once")
    _check_outcome(errors, outcome, callback_at, language, notes, now)
    errors.raise_if_any()
    # In id order, as every path that locks several items does.
    return [_apply_outcome(user, item, outcome=outcome, notes=notes, callback_at=callback_at, language=language,
                           claim_token=token, now=now)
            for item, token in sorted(held, key=lambda pair: pair[0].id)]


def _check_outcome(errors: ErrorCollector, outcome: str | None, callback_at: datetime | None,
                   language: str | None, notes: str | None, now: datetime) -> None:
    if outcome not in {o.value for o in Outcome}:
        errors.add("outcome", "Choose what happened on the call")
    if outcome == Outcome.CALLBACK_REQUESTED:
        if callback_at is None:
            errors.add("callback_at", "Enter the date and time they asked to be called back")
        elif callback_at <= now:
            errors.add("callback_at", "The callback time must be in the future")
    if outcome == Outcome.LANGUAGE_BARRIER and not (language or "").strip():
        errors.add("language", "Enter the language they speak")
    if notes and len(notes) > 5000:
        errors.add("notes", "Notes must be 5,000 characters or fewer")


def _apply_outcome(user, item: WorkItem | int, *, outcome: str, notes: str | None, callback_at: datetime | None,
                   language: str | None, claim_token: str | None, now: datetime) -> AttemptResult:
    item, call_id = lock_held(user, item, claim_token, now, with_subject=True)

    attempt = CallAttempt(work_item=item, person_id=item.person_id, tracer_id=user.id, outcome=outcome,
                          is_failed=outcome in FAILED_OUTCOMES, notes=(notes or "").strip() or None,
                          callback_at=callback_at if outcome == Outcome.CALLBACK_REQUESTED else None,
                          language=(language or "").strip() or None, started_at=item.claimed_at)
    db.session.add(attempt)
    result = AttemptResult(attempt=attempt, item=item)
    clear_claim(item)
    # Nothing to write before this read (the attempt has no call yet): the attempt and the item's changes
    # are written together by the next flush, the item in one UPDATE.
    with db.session.no_autoflush:
        link_call_to_attempt(attempt, call_id)

    if outcome in FAILED_OUTCOMES:
        item.attempts += 1
        max_attempts = current_app.config["TTS_MAX_FAILED_ATTEMPTS"]
        deadline = item.created_at + timedelta(hours=current_app.config["TTS_ESCALATE_AFTER_HOURS"])
        if item.attempts >= max_attempts:
            result.escalation = escalate_item(user, item, EscalationReason.ATTEMPTS_EXHAUSTED,
                                              f"{item.attempts} calls without an answer")
        elif now >= deadline:
            result.escalation = escalate_item(user, item, EscalationReason.OVERDUE)
        else:
            item.status = ItemStatus.OPEN
            item.due_at = retry_at(now, item.attempts)
        events.call_failed.fire(user, item)  # "we tried to call you": never counts as an attempt
    elif outcome == Outcome.WRONG_NUMBER:
        item.attempts += 1
        result.escalation = escalate_item(user, item, EscalationReason.WRONG_NUMBER)
    elif outcome == Outcome.LANGUAGE_BARRIER:
        result.assigned_to = _hand_to_speaker(user, item, attempt.language, now)
    else:
        _close(item, outcome, now)
        if outcome == Outcome.CALLBACK_REQUESTED:
            # The callback goes back to the tracer who arranged it for the rest of their shift.
            result.new_item = create_work_item(user, kind=ItemKind.CALLBACK, person=item.person, case=item.case,
                                               contact=item.contact, due_at=callback_at, assignee=user,
                                               assigned_until=calling_day_end(now), origin=item)
        if outcome == Outcome.REACHED:
            result.raised = raise_household(item.person)
            events.person_reached.fire(user, item, via="call")
    if attempt.id is None:  # usually written already, by the texts' flush; a flush now would also write
        db.session.flush()  # their audit event before it is sealed (an INSERT and an UPDATE, not one INSERT)
    record_event(user, "call_attempt.create", attempt, {"work_item_id": item.id, "outcome": outcome,
                                                        "status": item.status})
    return result


def _close(item: WorkItem, outcome: str, now: datetime) -> None:
    item.status = ItemStatus.DONE
    item.outcome = outcome
    item.closed_at = now


def _hand_to_speaker(user, item: WorkItem, language: str | None, now: datetime):
    """Back in the queue for a tracer who speaks the language, if the team has one; else the pool."""
    item.status = ItemStatus.OPEN
    item.due_at = min(item.due_at, now)
    item.language = language
    if item.person.language is None and code_for(language):
        item.person.language = code_for(language)  # their texts go in it from now on, where translated
    chosen = find_speaker(language, exclude_id=user.id)
    item.assignee_id = chosen.id if chosen else None
    item.assigned_until = None
    return chosen


def link_call_to_attempt(attempt: CallAttempt, call_id: int | None) -> None:
    """The outcome the tracer records takes the SID, status and duration of the call they just made:
    `call_id` is their latest masked call for the item (None: they made none), found by the outcome's
    locking read of the item (statements.lock_statement)."""
    if call_id is None:
        return
    call = db.session.get(PhoneCall, call_id)
    if db.session.scalar(select(CallAttempt.id).where(CallAttempt.twilio_call_sid == call.twilio_sid)):
        return
    attempt.twilio_call_sid = call.twilio_sid
    attempt.call_status = call.status
    attempt.duration_seconds = call.duration_seconds
