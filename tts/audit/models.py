"""Audit events: append-only (guarded in the ORM here and by triggers in the database)."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import UTCDateTime

if TYPE_CHECKING:
    from tts.auth.models import User


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_record", "record_type", "record_id"),
        # The sealer's work: events written but not sealed yet (a handful at any moment).
        Index("ix_audit_events_unsealed", "id", postgresql_where=text("hash IS NULL"),
              sqlite_where=text("hash IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    record_type: Mapped[str | None] = mapped_column(String(32))
    record_id: Mapped[int | None]
    via: Mapped[str] = mapped_column(String(8))  # web, api, cli
    ip: Mapped[str | None] = mapped_column(String(45))
    # Identifiers and flags only: never names, numbers or addresses.
    details: Mapped[dict | None] = mapped_column(JSON)
    # Tamper evidence: the worker seals events into a hash chain after their commit (tts/audit/chain.py).
    chain_seq: Mapped[int | None] = mapped_column(index=True, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped["User | None"] = relationship("User", lazy="joined")


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session: Session, _ctx, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("audit events are append-only")
