"""Check-ins while isolating: replies 1 (well), 2 (symptoms or worse) or 3 (need help) to the check-in
texts telephony plans (`schedule_checkins`), and the people who did not reply.

2 puts a priority welfare call (band 1) in the queue; 3 logs a support need and alerts supervisors. No
reply within 24 hours puts the person on the non-responders list; two missed in a row, a welfare call.
"""
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased, joinedload

from tts.audit.services import record_event
from tts.callqueue.bands import BAND_CALLBACK
from tts.callqueue.models import QUEUE_STATUSES, ItemKind, WorkItem
from tts.callqueue.services import create_work_item
from tts.cases.models import Case, Contact
from tts.clock import utcnow
from tts.extensions import db
from tts.jobs import job
from tts.selfservice.alerts import raise_alert
from tts.selfservice.models import AlertKind, CheckIn, CheckInReply
from tts.support.services import create_support_need
from tts.telephony.models import Message

REPLY_WINDOW = timedelta(hours=24)  # no reply by then: missed
OPEN_FOR = timedelta(days=4)  # a reply this long after the text still answers it
_SENT = ("sending", "sent", "delivered", "read")
_NOT_SENT = ("skipped", "failed", "undelivered")


def is_reply(keyword: str) -> bool:
    return keyword in {r.value for r in CheckInReply}


def open_checkin(person_id: int, now: datetime) -> CheckIn | None:
    """The person's latest check-in that went out and has no answer yet (missed ones included: a late
    answer still counts)."""
    return db.session.scalar(select(CheckIn).where(
        CheckIn.person_id == person_id, CheckIn.reply.is_(None), CheckIn.cancelled_at.is_(None),
        CheckIn.due_at <= now, CheckIn.due_at > now - OPEN_FOR)
        .order_by(CheckIn.due_at.desc(), CheckIn.id.desc()).limit(1).with_for_update())


def _record_of(checkin: CheckIn):
    if checkin.case_id is not None:
        return {"case": db.session.get(Case, checkin.case_id)}
    return {"contact": db.session.get(Contact, checkin.contact_id)}


def record_reply(person, message, keyword: str, now: datetime | None = None) -> CheckIn | None:
    """Their answer to an open check-in, or None if they have none (the reply is then a plain one)."""
    now = now or utcnow()
    checkin = open_checkin(person.id, now)
    if checkin is None:
        return None
    checkin.reply, checkin.replied_at = keyword, now
    checkin.reply_message_id = message.id if message.id else None
    message.error_message = f"Check-in reply: {CheckInReply(keyword).label}"
    if keyword == CheckInReply.WORSE:
        item = create_work_item(None, kind=ItemKind.WELFARE_CHECK, person=person, band=BAND_CALLBACK,
                                **_record_of(checkin))
        raise_alert(AlertKind.CHECKIN_WORSE, person,
                    f"Replied 2 (symptoms or worse) to the day {checkin.day} check-in: a priority call is in the queue "
                    f"(item {item.id})")
    elif keyword == CheckInReply.HELP:
        need = create_support_need(None, person, kind="other", urgency="today",
                                   notes=f"Replied 3 (need help) to the day {checkin.day} check-in: call to ask what they need")
        raise_alert(AlertKind.CHECKIN_HELP, person,
                    f"Replied 3 (need help) to the day {checkin.day} check-in: support need {need.id} logged")
    db.session.flush()
    record_event(None, "checkin.reply", checkin, {"person_id": person.id, "reply": keyword})
    return checkin


@job("checkins_missed")
def sweep_checkins(now: datetime | None = None) -> int:
    """Note when each check-in went (or that it could not), mark those with no reply after 24 hours as
    missed, and queue a welfare call for anyone who has missed two in a row. Returns how many were missed."""
    now = now or utcnow()
    for checkin, status, started in db.session.execute(
            select(CheckIn, Message.status, Message.sending_started_at).join(Message, Message.id == CheckIn.message_id)
            .where(CheckIn.sent_at.is_(None), CheckIn.cancelled_at.is_(None), CheckIn.due_at <= now,
                   Message.status.in_(_SENT + _NOT_SENT))):
        if status in _NOT_SENT:
            checkin.cancelled_at = now  # nobody can answer a text that never arrived
        else:
            checkin.sent_at = started or checkin.due_at
    late = list(db.session.scalars(select(CheckIn).where(
        CheckIn.reply.is_(None), CheckIn.missed_at.is_(None), CheckIn.cancelled_at.is_(None),
        CheckIn.sent_at.is_not(None), CheckIn.sent_at <= now - REPLY_WINDOW).order_by(CheckIn.id)
        .with_for_update(skip_locked=True)))
    for checkin in late:
        checkin.missed_at = now
    db.session.flush()
    for person_id in sorted({c.person_id for c in late}):
        last_two = list(db.session.scalars(select(CheckIn).where(
            CheckIn.person_id == person_id, CheckIn.cancelled_at.is_(None), CheckIn.sent_at.is_not(None))
            .order_by(CheckIn.due_at.desc(), CheckIn.id.desc()).limit(2)))
        if len(last_two) == 2 and all(c.missed_at is not None and c.reply is None for c in last_two):
            _welfare_call(last_two[0], now)
    if late:
        record_event(None, "checkin.missed", None, {"person_ids": sorted({c.person_id for c in late})})
    return len(late)


def _welfare_call(checkin: CheckIn, now: datetime) -> None:
    waiting = db.session.scalar(select(exists().where(
        WorkItem.person_id == checkin.person_id, WorkItem.kind == ItemKind.WELFARE_CHECK,
        WorkItem.status.in_(QUEUE_STATUSES))))
    if waiting:
        return
    person = checkin.person
    item = create_work_item(None, kind=ItemKind.WELFARE_CHECK, person=person, **_record_of(checkin))
    raise_alert(AlertKind.CHECKINS_MISSED, person,
                f"No reply to two check-ins in a row (the latest on day {checkin.day}): a welfare call is in the "
                f"queue (item {item.id})")


LIST_DAYS = 7  # a missed check-in older than this is after the end of isolation (they come every few days)


def non_responders_statement(now: datetime):
    """People whose latest check-in that went out has had no reply within 24 hours: each with that
    check-in, and how many they have missed. Read from the missed check-ins of the last LIST_DAYS (a
    partial index holds only unanswered missed ones), each checked for a later one by the person's index."""
    later, earlier = aliased(CheckIn), aliased(CheckIn)
    superseded = exists().where(later.person_id == CheckIn.person_id, later.id > CheckIn.id,
                                later.sent_at.is_not(None), later.cancelled_at.is_(None))
    missed = (select(func.count()).select_from(earlier).where(earlier.person_id == CheckIn.person_id,
                                                                earlier.missed_at.is_not(None), earlier.reply.is_(None))
              .correlate(CheckIn).scalar_subquery())
    return (select(CheckIn, missed.label("missed")).options(joinedload(CheckIn.person))
            .where(CheckIn.missed_at.is_not(None), CheckIn.reply.is_(None), CheckIn.cancelled_at.is_(None),
                   CheckIn.missed_at >= now - timedelta(days=LIST_DAYS), ~superseded)
            .order_by(CheckIn.missed_at, CheckIn.id))


def non_responders(limit: int = 500, now: datetime | None = None) -> list[tuple[CheckIn, int]]:
    statement = non_responders_statement(now or utcnow()).limit(limit)
    return [(checkin, missed) for checkin, missed in db.session.execute(statement)]


def checkins_of(person_id: int) -> list[CheckIn]:
    return list(db.session.scalars(select(CheckIn).where(CheckIn.person_id == person_id)
                                   .order_by(CheckIn.due_at, CheckIn.id)))
