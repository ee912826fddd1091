"""Computed report figures shared by every web and worker process (the KPI page's snapshots)."""
from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from tts.extensions import db
from tts.models_base import UTCDateTime


class ReportSnapshot(db.Model):
    """KPI figures for one set of filters, as computed at `computed_at`. Aggregates only: counts,
    percentages and hours, never a person."""

    __tablename__ = "report_snapshots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seconds: Mapped[float] = mapped_column(default=0.0)  # how long computing it took
    value: Mapped[dict] = mapped_column(JSON)
