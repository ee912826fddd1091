"""Import batches: one uploaded file, its counts, its per-row errors."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime, WithStatus

if TYPE_CHECKING:
    from tts.auth.models import User


class ImportStatus(Labelled):
    PENDING = "pending", "Waiting", "grey"
    PROCESSING = "processing", "Importing", "light-blue"
    COMPLETED = "completed", "Completed", "green"
    REJECTED = "rejected", "Rejected", "red"
    FAILED = "failed", "Failed", "red"


class ImportBatch(WithStatus, db.Model):
    __tablename__ = "import_batches"
    STATUS = ImportStatus

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), index=True)  # an ImportStatus
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_processed: Mapped[int] = mapped_column(default=0)
    rows_imported: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list | None] = mapped_column(JSON)  # [{"row", "column", "message"}]
    # Case rows for someone who already has a current case: not logged again; their contacts join that case.
    # [{"row", "referral_id", "case_id", "case_reference"}] (a case made earlier in the same file: no id yet)
    matched: Mapped[list | None] = mapped_column(JSON)
    payload: Mapped[str | None] = mapped_column(Text)  # the file, until a background import has run
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped["User | None"] = relationship("User")



    @property
    def in_progress(self) -> bool:
        return self.status in (ImportStatus.PENDING, ImportStatus.PROCESSING)

    @property
    def percent(self) -> int:
        if not self.in_progress:
            return 100
        return int(100 * self.rows_processed / self.rows_total) if self.rows_total else 0
