"""Support needs: what a person needs to be able to isolate, and where it was referred."""
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
    from tts.people.models import Person


class SupportKind(StrEnum):
    FOOD = "food"
    MEDICINE = "medicine"
    ISOLATION_PAYMENT = "isolation_payment"
    MENTAL_HEALTH = "mental_health"
    HOUSING = "housing"
    OTHER = "other"


KIND_LABELS = {
    SupportKind.FOOD: "Food",
    SupportKind.MEDICINE: "Medicine or prescriptions",
    SupportKind.ISOLATION_PAYMENT: "Isolation payment",
    SupportKind.MENTAL_HEALTH: "Mental health and wellbeing",
    SupportKind.HOUSING: "Housing",
    SupportKind.OTHER: "Something else",
}
class SupportStatus(Labelled):
    REQUESTED = "requested", "Requested"
    REFERRED = "referred", "Referred", "light-blue"
    FULFILLED = "fulfilled", "Fulfilled", "green"
    DECLINED = "declined", "Declined", "grey"


STATUSES = tuple(s.value for s in SupportStatus)
REFERRAL_TARGETS = ("Food bank", "Pharmacy delivery", "Isolation payment team", "Mental health service",
                    "Housing team", "Other")
URGENCIES = ("today", "this_week", "routine")
URGENCY_LABELS = {"today": "Today", "this_week": "This week", "routine": "Routine"}


class SupportNeed(WithStatus, db.Model):
    __tablename__ = "support_needs"
    STATUS = SupportStatus

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(12), default="routine")
    status: Mapped[str] = mapped_column(String(12), default="requested", index=True)
    referred_to: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person: Mapped["Person"] = relationship("Person")
    created_by: Mapped["User | None"] = relationship("User")



    @property
    def is_active(self) -> bool:
        """Still to be arranged: requested, or referred and not yet fulfilled or declined."""
        return self.status in (SupportStatus.REQUESTED, SupportStatus.REFERRED)
