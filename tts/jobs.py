"""The one way a background job is taken: the oldest pending row of its table, by one worker only.

Imports, export jobs and planner runs are rows with a `status`; a row in "pending" is a job waiting. The
worker takes it here and commits at once. That commit is one of the job runner's visible steps: from then
on the row says it is being worked, and no lock is held while the job runs (which takes minutes)."""
from typing import Any

from sqlalchemy import select

from tts.extensions import db


def claim_pending(model: Any, **claimed: Any) -> Any | None:
    """Take the oldest row of `model` whose status is "pending" (SKIP LOCKED on PostgreSQL, so two workers
    never take the same one; SQLite has one writer at a time), set `claimed` on it (its new status, a start
    time), commit, and return it; None when nothing waits."""
    row = db.session.scalars(select(model).where(model.status == "pending").order_by(model.id).limit(1)
                             .with_for_update(skip_locked=True)).first()
    if row is None:
        return None
    for name, value in claimed.items():
        setattr(row, name, value)
    db.session.commit()  # the job runner's step: claimed, visible as such, no lock held while it runs
    return row
