"""Versions of the isolation policy; a record uses the version in force when it was created."""
from datetime import date, datetime, timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import UTCDateTime


class IsolationPolicy(db.Model):
    __tablename__ = "isolation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    case_isolation_days: Mapped[int]
    contact_quarantine_days: Mapped[int]
    infectious_days_before_onset: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def isolation_end(self, test_date: date, symptom_onset_date: date | None) -> date:
        """A case isolates for N full days after onset, or after the test when asymptomatic."""
        return (symptom_onset_date or test_date) + timedelta(days=self.case_isolation_days)

    def quarantine_end(self, last_exposure_date: date) -> date:
        return last_exposure_date + timedelta(days=self.contact_quarantine_days)

    def infectious_from(self, test_date: date, symptom_onset_date: date | None) -> date:
        return (symptom_onset_date or test_date) - timedelta(days=self.infectious_days_before_onset)
