"""Computed report figures shared by every web and worker process (the KPI page's snapshots)."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime, WithStatus


class ReportSnapshot(db.Model):
    """KPI figures for one set of filters, as computed at `computed_at`. Aggregates only: counts,
    percentages and hours, never a person."""

    __tablename__ = "report_snapshots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seconds: Mapped[float] = mapped_column(default=0.0)  # how long computing it took
    value: Mapped[dict] = mapped_column(JSON)


class ExportStatus(Labelled):
    PENDING = "pending", "Waiting for the worker"
    RUNNING = "running", "Being written"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Deleted"


class ExportJob(WithStatus, db.Model):
    """An export built by the worker (a large spreadsheet takes minutes): its progress, then its file,
    kept in `export_file_chunks` for `TTS_EXPORT_KEEP_HOURS` and downloadable only by whoever asked."""

    __tablename__ = "export_jobs"
    STATUS = ExportStatus

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    dataset: Mapped[str] = mapped_column(String(20))
    fmt: Mapped[str] = mapped_column(String(8))  # xlsx or csv
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    identifiable: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), index=True)  # an ExportStatus
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    byte_size: Mapped[int | None]
    chunk_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def file_name(self) -> str:
        return (f"tts-{self.dataset}-{self.date_from}-{self.date_to}"
                f"{'-identifiable' if self.identifiable else ''}.{self.fmt}")


    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.EXPIRED)


class ExportFileChunk(db.Model):
    """One megabyte of a built export file, so that a download streams in constant memory and every
    web process can serve a file the worker built."""

    __tablename__ = "export_file_chunks"

    job_id: Mapped[int] = mapped_column(ForeignKey("export_jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
