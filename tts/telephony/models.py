"""The SMS outbox, message templates, masked phone calls and the webhook idempotency store."""
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime, WithStatus

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.people.models import Person


class MessageStatus(Labelled):
    QUEUED = "queued", "Queued", "grey"
    SENDING = "sending", "Sending", "light-blue"
    SENT = "sent", "Sent", "turquoise"
    DELIVERED = "delivered", "Delivered", "green"
    UNDELIVERED = "undelivered", "Undelivered", "red"
    FAILED = "failed", "Failed", "red"
    RECEIVED = "received", "Received", "blue"
    SKIPPED = "skipped", "Skipped", "yellow"  # never sent: opted out, or not a mobile number


# A status callback may only move a message forward along this order.
STATUS_RANK = {"queued": 0, "accepted": 0, "scheduled": 0, "sending": 1, "sent": 2, "delivered": 3,
               "undelivered": 3, "failed": 3, "read": 4, "received": 3, "skipped": 3}
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "received", "skipped", "read"})


class Trigger(StrEnum):
    INTRODUCTION = "introduction"
    MISSED_CALL = "missed_call"
    ISOLATION_ADVICE = "isolation_advice"
    WELFARE_CHECK = "welfare_check"
    SUPPORT_ARRANGED = "support_arranged"
    CONTACT_ADVICE = "contact_advice"  # a contact's first text: the advice, with their personal link
    CHECKIN = "checkin"  # on the days in TTS_CHECKIN_DAYS: reply 1, 2 or 3


class Message(WithStatus, db.Model):
    __tablename__ = "messages"
    STATUS = MessageStatus
    __table_args__ = (
        Index("ix_messages_due", "next_attempt_at", "id", postgresql_where=text("status = 'queued'"),
              sqlite_where=text("status = 'queued'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)  # None: unmatched reply
    direction: Mapped[str] = mapped_column(String(8))  # outbound, inbound
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    trigger: Mapped[str | None] = mapped_column(String(30))
    to_number: Mapped[str | None] = mapped_column(String(20))
    from_number: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), index=True)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=0)
    # After a timeout or 5xx Twilio may have sent it: look it up before any resend.
    needs_lookup: Mapped[bool] = mapped_column(default=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sending_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))

    person: Mapped["Person | None"] = relationship("Person")




class MessageTemplate(db.Model):
    """A text's wording in one language. The English one (`language="en"`) is the text itself: turning it off
    stops the text for everyone; a translation is used for people with that language, English otherwise."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("trigger", "language", name="uq_message_templates_trigger_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # A translation is "awaiting review by a translator" until an administrator confirms one has checked it.
    needs_review: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PhoneCall(db.Model):
    """A masked call: Twilio rings the tracer, then bridges to the person from the team's number."""

    __tablename__ = "phone_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    tracer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    last_sequence: Mapped[int] = mapped_column(default=-1)
    duration_seconds: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    person: Mapped["Person | None"] = relationship("Person")
    tracer: Mapped["User"] = relationship("User")


class WebhookEvent(db.Model):
    """Each Twilio callback once: a repeat with the same key changes nothing."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("key", name="uq_webhook_events_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
