"""Index cases and the contacts (exposures) elicited from them."""
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime, WithStatus

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.people.models import Person
    from tts.policies.models import IsolationPolicy


class CaseSource(Labelled):
    LOCAL = "local", "Local"
    NATIONAL_REFERRAL = "national_referral", "National referral"
    API = "api", "API"


class Relationship(StrEnum):
    HOUSEHOLD = "household"
    CLOSE = "close"
    SETTING = "setting"


class CaseStatus(Labelled):
    OPEN = "open", "Not yet reached", "grey"
    ISOLATING = "isolating", "Isolating", "light-blue"
    COMPLETED = "completed", "Completed", "green"
    CLOSED = "closed", "Closed", "orange"


class ContactStatus(Labelled):
    OPEN = "open", "Not yet reached", "grey"
    REACHED = "reached", "Reached", "light-blue"
    COMPLETED = "completed", "Completed", "green"
    BECAME_CASE = "became_case", "Became a case", "purple"
    CLOSED = "closed", "Closed", "orange"


class ContactSource(Labelled):
    STAFF = "staff", "Entered by staff"
    SELF_SERVICE = "self_service", "Self-reported online", "purple"
    IMPORT = "import", "Imported"


class ReachedBy(Labelled):
    CALL = "call", "By call"
    TEXT = "text", "By text"
    VISIT = "visit", "On the doorstep"


class ClosureReason(Labelled):
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"
    REFUSED = "refused", "Refused to take part"
    DUPLICATE = "duplicate", "Duplicate record"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"
    MOVED_AWAY = "moved_away", "Moved away"
    OTHER = "other", "Other reason"


# Nothing is left to do for a record in these: its calls are cancelled, and replies are not routed to it.
FINISHED_STATUSES = (CaseStatus.COMPLETED.value, CaseStatus.CLOSED.value, ContactStatus.BECAME_CASE.value)

RELATIONSHIP_LABELS = {
    Relationship.HOUSEHOLD: "Household: lives with the case",
    Relationship.CLOSE: "Close contact: face to face, or within 2 metres for 15 minutes",
    Relationship.SETTING: "Setting: workplace, school, care home or similar",
}


class Closable:
    """Closing a case or contact by hand: why, when, by whom (cleared when a supervisor reopens it)."""

    closure_reason: Mapped[str | None] = mapped_column(String(30))  # a ClosureReason
    closure_notes: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def closure_label(self) -> str:
        return ClosureReason.label_of(self.closure_reason)

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    @property
    def may_close(self) -> bool:
        """Still in progress: closing it would cancel work (a finished record has none)."""
        return self.status not in FINISHED_STATUSES


class Case(WithStatus, Closable, db.Model):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_created", "status", "created_at"),)  # the Cases list by status
    STATUS = CaseStatus

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    referral_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # from a national referral
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    test_date: Mapped[date] = mapped_column(Date)
    symptom_onset_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20), default=CaseSource.LOCAL)
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.OPEN)
    isolation_end_date: Mapped[date] = mapped_column(Date)
    # The case they caught it from, when a contact became this case (a link of the transmission chain).
    exposed_by_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("isolation_policies.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    person: Mapped["Person"] = relationship("Person", back_populates="cases")
    policy: Mapped["IsolationPolicy"] = relationship("IsolationPolicy")
    created_by: Mapped["User | None"] = relationship("User", foreign_keys=[created_by_id])
    contacts: Mapped[list["Contact"]] = relationship(back_populates="case", order_by="Contact.id",
                                                     foreign_keys="Contact.case_id")
    exposed_by: Mapped["Case | None"] = relationship("Case", remote_side=[id], foreign_keys=[exposed_by_case_id])


class Contact(WithStatus, Closable, db.Model):
    __tablename__ = "contacts"
    STATUS = ContactStatus
    __table_args__ = (UniqueConstraint("case_id", "person_id", name="uq_contacts_case_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: uq_contacts_case_person (case_id, person_id) serves lookups by case.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    referral_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    relationship_: Mapped[str] = mapped_column("relationship", String(20))
    last_exposure_date: Mapped[date] = mapped_column(Date)
    quarantine_end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ContactStatus.OPEN)
    policy_id: Mapped[int] = mapped_column(ForeignKey("isolation_policies.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    became_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))  # they tested positive
    # Who named them (a ContactSource), and how they were first reached (a ReachedBy; None: not yet).
    source: Mapped[str] = mapped_column(String(12), default=ContactSource.STAFF, server_default="staff")
    reached_by: Mapped[str | None] = mapped_column(String(8))

    case: Mapped[Case] = relationship(back_populates="contacts", foreign_keys=[case_id])
    became_case: Mapped["Case | None"] = relationship("Case", foreign_keys=[became_case_id])
    person: Mapped["Person"] = relationship("Person", back_populates="contact_records")
    policy: Mapped["IsolationPolicy"] = relationship("IsolationPolicy")

    @property
    def reached_by_label(self) -> str:
        return ReachedBy.label_of(self.reached_by)

    @property
    def source_label(self) -> str:
        return ContactSource.label_of(self.source)

    @property
    def household_id(self) -> int | None:
        return self.person.household_id if self.relationship_ == Relationship.HOUSEHOLD else None


class Correction(db.Model):
    """A record corrected after it was logged: which fields (never their values), by whom, and why. The
    person's timeline shows it ("onset date corrected by Priya, reason: ...")."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    fields: Mapped[list] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor: Mapped["User | None"] = relationship("User")
