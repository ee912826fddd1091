"""Work items in the call queue and the call attempts made on them."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime, WithStatus

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.cases.models import Case, Contact
    from tts.people.models import Person


class ItemKind(Labelled):
    INITIAL_CALL = "initial_call", "First call"
    FOLLOW_UP = "follow_up", "Follow-up call"
    CALLBACK = "callback", "Callback"
    WELFARE_CHECK = "welfare_check", "Welfare check"
    DOORSTEP_VISIT = "doorstep_visit", "Doorstep visit"


class ItemStatus(Labelled):
    OPEN = "open", "Waiting"
    CLAIMED = "claimed", "Being called"
    DONE = "done", "Done"
    ESCALATED = "escalated", "Passed to the local team"
    CANCELLED = "cancelled", "Cancelled"


class Outcome(Labelled):
    REACHED = "reached", "Reached: spoke to them"
    NO_ANSWER = "no_answer", "No answer"
    VOICEMAIL = "voicemail", "Went to voicemail"
    BUSY = "busy", "Line busy"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    REFUSED = "refused", "Refused to take part"
    CALLBACK_REQUESTED = "callback_requested", "Asked to be called back"
    LANGUAGE_BARRIER = "language_barrier", "Needs an interpreter or another language"


OUTCOME_LABELS = {o: o.label for o in Outcome}
FINISHED_STATUSES = frozenset({ItemStatus.DONE, ItemStatus.ESCALATED, ItemStatus.CANCELLED})
FAILED_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.BUSY})
KIND_LABELS = {k: k.label for k in ItemKind}
# Rows the queue can hand out: open ones, and claimed ones whose lease may have expired.
QUEUE_STATUSES = (ItemStatus.OPEN.value, ItemStatus.CLAIMED.value)
_QUEUE_WHERE = text("status IN ('open', 'claimed')")
_CLAIMED_WHERE = text("status = 'claimed'")


class WorkItem(WithStatus, db.Model):
    __tablename__ = "work_items"
    STATUS = ItemStatus
    __table_args__ = (
        CheckConstraint("(case_id IS NULL) <> (contact_id IS NULL)", name="one_subject"),
        # Serves the pool query: WHERE status IN (...) ORDER BY band, due_at, id.
        Index("ix_work_items_queue", "band", "due_at", "id", postgresql_where=_QUEUE_WHERE, sqlite_where=_QUEUE_WHERE),
        Index("ix_work_items_assignee_open", "assignee_id", "band", "due_at",
              postgresql_where=_QUEUE_WHERE, sqlite_where=_QUEUE_WHERE),
        # Everyone ever assigned to a tracer (the Cases list's least-privilege rule); only assigned rows are in
        # it, so the queue's own updates of unassigned items never touch it.
        Index("ix_work_items_assignee_person", "assignee_id", "person_id",
              postgresql_where=text("assignee_id IS NOT NULL"), sqlite_where=text("assignee_id IS NOT NULL")),
        # The longest-waiting item, whatever its band (the supervisor's dashboard): without it, a sort of
        # every waiting item (26 ms and both cores at national peak) on every refresh.
        Index("ix_work_items_waiting_due", "due_at", "id", postgresql_where=_QUEUE_WHERE, sqlite_where=_QUEUE_WHERE),
        # Serves "is this person on someone else's call?": only live claims, so it stays tiny.
        Index("ix_work_items_claimed_person", "person_id", "claimed_until",
              postgresql_where=_CLAIMED_WHERE, sqlite_where=_CLAIMED_WHERE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=ItemStatus.OPEN)
    band: Mapped[int]
    is_household_raised: Mapped[bool] = mapped_column(default=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)  # failed calls only; SMS never counts
    language: Mapped[str | None] = mapped_column(String(40))  # an interpreter is needed for this
    origin_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person: Mapped["Person"] = relationship("Person")
    case: Mapped["Case | None"] = relationship("Case", foreign_keys=[case_id])
    contact: Mapped["Contact | None"] = relationship("Contact", foreign_keys=[contact_id])
    assignee: Mapped["User | None"] = relationship("User", foreign_keys=[assignee_id])
    claimed_by: Mapped["User | None"] = relationship("User", foreign_keys=[claimed_by_id])
    call_attempts: Mapped[list["CallAttempt"]] = relationship(back_populates="work_item", order_by="CallAttempt.id")

    @property
    def subject_type(self) -> str:
        return "case" if self.case_id is not None else "contact"

    @property
    def subject_id(self) -> int:
        return self.case_id if self.case_id is not None else self.contact_id  # type: ignore[return-value]

    def is_claimed_by(self, user, now: datetime) -> bool:
        return (self.status == ItemStatus.CLAIMED and self.claimed_by_id == getattr(user, "id", None)
                and self.claimed_until is not None and self.claimed_until >= now)

    def is_held_by_other(self, user, now: datetime) -> bool:
        return (self.status == ItemStatus.CLAIMED and self.claimed_by_id != getattr(user, "id", None)
                and self.claimed_until is not None and self.claimed_until >= now)


    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def is_open(self) -> bool:
        return self.status in QUEUE_STATUSES


class CallAttempt(db.Model):
    __tablename__ = "call_attempts"
    # A tracer's calls today (My work): one range scan instead of all of that tracer's calls ever.
    # person_id is carried in the index so "the people a tracer called" (the Cases list's least-privilege
    # rule) is read from the index alone.
    __table_args__ = (Index("ix_call_attempts_tracer_created", "tracer_id", "created_at",
                            postgresql_include=["person_id"]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # No index of its own: ix_call_attempts_tracer_created (tracer_id, created_at) serves lookups by tracer.
    tracer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    is_failed: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    language: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Filled by Twilio call status callbacks (telephony).
    twilio_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    call_status: Mapped[str | None] = mapped_column(String(20))
    duration_seconds: Mapped[int | None]

    work_item: Mapped[WorkItem] = relationship(back_populates="call_attempts")
    tracer: Mapped["User"] = relationship("User")
    person: Mapped["Person"] = relationship("Person")
