"""A capacity planner run: the inputs, progress while the worker simulates, then the figures."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime, WithStatus

if TYPE_CHECKING:
    from tts.auth.models import User


class RunStatus(Labelled):
    PENDING = "pending", "Pending", "grey"
    RUNNING = "running", "Running", "grey"
    DONE = "done", "Done"
    FAILED = "failed", "Failed", "red"


class SimulationRun(WithStatus, db.Model):
    __tablename__ = "simulation_runs"
    STATUS = RunStatus

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), index=True)  # a RunStatus
    inputs: Mapped[dict] = mapped_column(JSON)  # cases_per_day, contacts_per_case, tracers, days, seed, levels
    progress: Mapped[int] = mapped_column(default=0)  # percent
    results: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped["User | None"] = relationship("User")



    @property
    def in_progress(self) -> bool:
        return self.status in (RunStatus.PENDING, RunStatus.RUNNING)
