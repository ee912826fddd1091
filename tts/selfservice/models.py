"""Personal links, check-ins and the alerts they raise for supervisors."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime, WithStatus

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.cases.models import Case, Contact
    from tts.people.models import Person


class LinkPurpose(Labelled):
    CASE = "case", "Tell us your contacts"  # a case completes their details online
    CONTACT = "contact", "Confirm the advice"  # a contact confirms they will isolate


class LinkStatus(Labelled):
    NOT_STARTED = "not_started", "Not started", "grey"
    STARTED = "started", "Started", "light-blue"
    COMPLETED = "completed", "Completed", "green"
    EXPIRED = "expired", "Expired", "yellow"
    LOCKED = "locked", "Locked: too many wrong answers", "red"
    REVOKED = "revoked", "Revoked by staff", "orange"


LIVE_LINK_STATUSES = (LinkStatus.NOT_STARTED.value, LinkStatus.STARTED.value)


class ContactResponse(Labelled):
    CONFIRMED = "confirmed", "Read the advice and will stay at home"
    CALL_ME = "call_me", "Asked for a call"
    SYMPTOMS = "symptoms", "Reported symptoms"


class SelfServiceLink(WithStatus, db.Model):
    """A personal link texted to one person for one purpose. Only the token's SHA-256 is stored: the link
    itself exists only in the text. A case's link is opened with their date of birth; a contact's shows
    no more than the text it came in did (their first name and the end date)."""

    __tablename__ = "self_service_links"
    STATUS = LinkStatus
    __table_args__ = (Index("ix_self_service_links_case", "case_id", "id"),
                      Index("ix_self_service_links_contact", "contact_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    status: Mapped[str] = mapped_column(String(12), default=LinkStatus.NOT_STARTED)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A case's answers while they fill the form in (and what they submitted, for the call screen); scrubbed
    # with the rest of the person's free text by the retention job.
    answers: Mapped[dict | None] = mapped_column(JSON)
    response: Mapped[str | None] = mapped_column(String(12))  # a contact's: a ContactResponse

    person: Mapped["Person"] = relationship("Person")
    case: Mapped["Case | None"] = relationship("Case")
    contact: Mapped["Contact | None"] = relationship("Contact")

    @property
    def purpose_label(self) -> str:
        return LinkPurpose.label_of(self.purpose)

    @property
    def response_label(self) -> str:
        return ContactResponse.label_of(self.response)

    def public_status(self, now: datetime) -> str:
        """The status the API and pages show: a live link past its time is expired."""
        if self.status in LIVE_LINK_STATUSES and self.expires_at <= now:
            return LinkStatus.EXPIRED.value
        return self.status

    def is_usable(self, now: datetime) -> bool:
        return self.status in LIVE_LINK_STATUSES and self.expires_at > now


class CheckInReply(Labelled):
    WELL = "1", "1: well"
    WORSE = "2", "2: symptoms or worse"
    HELP = "3", "3: needs help"


class CheckIn(db.Model):
    """One check-in text to someone isolating, on one of the days in TTS_CHECKIN_DAYS, and their reply."""

    __tablename__ = "checkins"
    __table_args__ = (
        # The worker's pass: sent check-ins still waiting for a reply.
        Index("ix_checkins_waiting", "due_at", postgresql_where=text("reply IS NULL AND missed_at IS NULL"),
              sqlite_where=text("reply IS NULL AND missed_at IS NULL")),
        # The missed check-ins list: only the unanswered missed ones.
        # A sweep marks many at one moment: the id orders those, so the list reads its first page and stops.
        Index("ix_checkins_missed", "missed_at", "id", postgresql_where=text("missed_at IS NOT NULL AND reply IS NULL"),
              sqlite_where=text("missed_at IS NOT NULL AND reply IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    day: Mapped[int]  # days after the start of isolation
    send_on: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when its text is due to go
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the worker sent it
    reply: Mapped[str | None] = mapped_column(String(1))  # a CheckInReply
    reply_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # no reply within 24 hours
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    person: Mapped["Person"] = relationship("Person")

    @property
    def reply_label(self) -> str:
        return CheckInReply.label_of(self.reply)


class AlertKind(Labelled):
    LINK_LOCKED = "link_locked", "Personal link locked", "red"
    CHECKIN_HELP = "checkin_help", "Asked for help at a check-in", "orange"
    CHECKIN_WORSE = "checkin_worse", "Feeling worse at a check-in", "red"
    CHECKINS_MISSED = "checkins_missed", "Missed two check-ins", "yellow"
    SYMPTOMS = "symptoms", "Contact reported symptoms", "red"


class TeamAlert(db.Model):
    """Something a supervisor should know about now: shown on the dashboard until one of them marks it
    dealt with."""

    __tablename__ = "team_alerts"
    __table_args__ = (Index("ix_team_alerts_open", "created_at", postgresql_where=text("resolved_at IS NULL"),
                            sqlite_where=text("resolved_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    detail: Mapped[str | None] = mapped_column(Text)  # what happened, without personal data beyond the link
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    person: Mapped["Person | None"] = relationship("Person")
    resolved_by: Mapped["User | None"] = relationship("User")

    @property
    def kind_label(self) -> str:
        return AlertKind.label_of(self.kind)

    @property
    def kind_tag(self) -> str:
        return AlertKind.tag_of(self.kind)
