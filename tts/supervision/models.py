"""Notices telling a tracer that work was given to them or taken off them."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import UTCDateTime

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.callqueue.models import WorkItem


class WorkNotice(db.Model):
    __tablename__ = "work_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"))
    kind: Mapped[str] = mapped_column(String(10))  # gained, lost
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    work_item: Mapped["WorkItem"] = relationship("WorkItem")
    actor: Mapped["User | None"] = relationship("User", foreign_keys=[actor_id])
