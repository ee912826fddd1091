"""Index cases and the contacts (exposures) elicited from them."""
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import UTCDateTime

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.people.models import Person
    from tts.policies.models import IsolationPolicy


class CaseSource(StrEnum):
    LOCAL = "local"
    NATIONAL_REFERRAL = "national_referral"
    API = "api"


class Relationship(StrEnum):
    HOUSEHOLD = "household"
    CLOSE = "close"
    SETTING = "setting"


RELATIONSHIP_LABELS = {
    Relationship.HOUSEHOLD: "Household: lives with the case",
    Relationship.CLOSE: "Close contact: face to face, or within 2 metres for 15 minutes",
    Relationship.SETTING: "Setting: workplace, school, care home or similar",
}


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    referral_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # from a national referral
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    test_date: Mapped[date] = mapped_column(Date)
    symptom_onset_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20), default=CaseSource.LOCAL)
    status: Mapped[str] = mapped_column(String(20), default="open")
    isolation_end_date: Mapped[date] = mapped_column(Date)
    policy_id: Mapped[int] = mapped_column(ForeignKey("isolation_policies.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    person: Mapped["Person"] = relationship("Person", back_populates="cases")
    policy: Mapped["IsolationPolicy"] = relationship("IsolationPolicy")
    created_by: Mapped["User | None"] = relationship("User", foreign_keys=[created_by_id])
    contacts: Mapped[list["Contact"]] = relationship(back_populates="case", order_by="Contact.id")


class Contact(db.Model):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("case_id", "person_id", name="uq_contacts_case_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: uq_contacts_case_person (case_id, person_id) serves lookups by case.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    referral_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    relationship_: Mapped[str] = mapped_column("relationship", String(20))
    last_exposure_date: Mapped[date] = mapped_column(Date)
    quarantine_end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    policy_id: Mapped[int] = mapped_column(ForeignKey("isolation_policies.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    case: Mapped[Case] = relationship(back_populates="contacts")
    person: Mapped["Person"] = relationship("Person", back_populates="contact_records")
    policy: Mapped["IsolationPolicy"] = relationship("IsolationPolicy")

    @property
    def household_id(self) -> int | None:
        return self.person.household_id if self.relationship_ == Relationship.HOUSEHOLD else None
