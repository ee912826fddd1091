"""The first answer to each API request sent with an Idempotency-Key, kept 24 hours to answer retries."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import UTCDateTime


class IdempotentRequest(db.Model):
    """Written in the same transaction as the change the request made, so it exists exactly when the change
    does: a retry after a lost answer finds it and gets the same answer, and nothing is written twice. The
    answer may name a person: it is kept 24 hours (the worker deletes it after) and shown only to the token
    that made the request."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotent_requests_token_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the method, path and body
    status_code: Mapped[int]
    response_body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
