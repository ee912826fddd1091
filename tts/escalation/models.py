"""Escalations to the local team (doorstep visits) for people the queue could not reach."""
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime, WithStatus

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.callqueue.models import WorkItem
    from tts.people.models import Household, Person


class EscalationReason(StrEnum):
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    NO_PHONE = "no_phone"
    WRONG_NUMBER = "wrong_number"
    OVERDUE = "overdue"


REASON_LABELS = {
    EscalationReason.ATTEMPTS_EXHAUSTED: "Not reached after the maximum number of calls",
    EscalationReason.NO_PHONE: "No phone number",
    EscalationReason.WRONG_NUMBER: "Wrong number",
    EscalationReason.OVERDUE: "Not reached within 24 hours",
}


class EscalationStatus(Labelled):
    OPEN = "open", "Open"
    ASSIGNED = "assigned", "Assigned"
    VISITED = "visited", "Visited"
    RESOLVED = "resolved", "Resolved", "green"


VISIT_OUTCOMES = {
    "reached": "Reached on the doorstep",
    "no_answer": "No answer (card left)",
    "moved_away": "Moved away",
    "refused": "Refused",
    "unsafe": "Unsafe to visit",
}


class Escalation(WithStatus, db.Model):
    __tablename__ = "escalations"
    STATUS = EscalationStatus

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    reason: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    visit_outcome: Mapped[str | None] = mapped_column(String(30))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(String(300))  # why a supervisor closed it

    person: Mapped["Person"] = relationship("Person")
    household: Mapped["Household | None"] = relationship("Household")
    work_item: Mapped["WorkItem | None"] = relationship("WorkItem")
    assignee: Mapped["User | None"] = relationship("User", foreign_keys=[assignee_id])
    visits: Mapped[list["Visit"]] = relationship(back_populates="escalation", order_by="Visit.id")



    @property
    def may_assign(self) -> bool:
        """A field officer can be sent (or sent again) until someone has visited."""
        return self.status in (EscalationStatus.OPEN, EscalationStatus.ASSIGNED)

    @property
    def is_open(self) -> bool:
        return self.status != EscalationStatus.RESOLVED


class Visit(db.Model):
    """One doorstep visit by a field officer."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    escalation: Mapped[Escalation] = relationship(back_populates="visits")
    officer: Mapped["User"] = relationship("User")
