"""Letter templates (edited by an admin) and the letters made from them (stored PDFs)."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.cases.models import Case, Contact
    from tts.outbreaks.models import Outbreak


class LetterKind(Labelled):
    ISOLATION_NOTE = "isolation_note", "Isolation note"
    QUARANTINE_LETTER = "quarantine_letter", "Quarantine advice letter"
    OUTBREAK_ADVICE = "outbreak_advice", "Outbreak advice letter"


class EmailStatus(Labelled):
    PENDING = "pending", "Waiting to be sent", "grey"
    SENDING = "sending", "Sending", "light-blue"
    SENT = "sent", "Emailed", "green"
    FAILED = "failed", "Email failed", "red"


class LetterTemplate(db.Model):
    """The words of one kind of letter; without a row, the built-in wording (tts/letters/wording.py) is used."""

    __tablename__ = "letter_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), unique=True)
    heading: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    updated_by: Mapped["User | None"] = relationship("User")


class Letter(db.Model):
    """One generated letter: the PDF as it was made (the record may change later), and its email, if sent."""

    __tablename__ = "letters"
    __table_args__ = (
        CheckConstraint("(CASE WHEN case_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 "
                        "END) + (CASE WHEN outbreak_id IS NULL THEN 0 ELSE 1 END) = 1", name="one_subject"),
        # The worker's email queue: letters waiting to go, oldest first.
        Index("ix_letters_email_waiting", "email_requested_at", postgresql_where=text("email_status = 'pending'"),
              sqlite_where=text("email_status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    outbreak_id: Mapped[int | None] = mapped_column(ForeignKey("outbreaks.id"), index=True)
    template_version: Mapped[int] = mapped_column(default=0)  # 0: the built-in wording
    # What the letter said, as a hash: asking again for an unchanged letter returns this one.
    content_hash: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # None once removed under retention
    pdf_bytes: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_to: Mapped[str | None] = mapped_column(String(254))
    email_status: Mapped[str | None] = mapped_column(String(10))
    email_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_error: Mapped[str | None] = mapped_column(Text)

    case: Mapped["Case | None"] = relationship("Case")
    contact: Mapped["Contact | None"] = relationship("Contact")
    outbreak: Mapped["Outbreak | None"] = relationship("Outbreak")
    created_by: Mapped["User | None"] = relationship("User", foreign_keys=[created_by_id])

    @property
    def kind_label(self) -> str:
        return LetterKind.label_of(self.kind)

    @property
    def email_label(self) -> str:
        return EmailStatus.label_of(self.email_status)

    @property
    def email_tag(self) -> str:
        return EmailStatus.tag_of(self.email_status)

    @property
    def filename(self) -> str:
        return f"{self.kind.replace('_', '-')}-{self.id}.pdf"
