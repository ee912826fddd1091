"""The workers' heartbeats: each worker notes when it last finished a pass of each lane, in the database, so
that any web server's /metrics can say how long ago a lane last ran (tts_worker_lane_last_run_seconds), and an
alert can fire when no worker has run it for a while (deploy/alerts.yml)."""
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import UTCDateTime

FORGET_AFTER = timedelta(days=1)  # a worker gone this long (a server retired) is dropped from the table


class WorkerHeartbeat(db.Model):
    __tablename__ = "worker_heartbeats"

    lane: Mapped[str] = mapped_column(String(16), primary_key=True)
    worker: Mapped[str] = mapped_column(String(100), primary_key=True)  # host name and process id
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime())


def worker_name() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def beat(lane: str, now: datetime | None = None) -> None:
    """Note that this worker finished a pass of `lane` (the caller commits: the lane's runner)."""
    now = now or utcnow()
    me = worker_name()
    done = db.session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.lane == lane, WorkerHeartbeat.worker == me)
                              .values(last_run_at=now)).rowcount
    if not done:
        db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_run_at < now - FORGET_AFTER))
        db.session.add(WorkerHeartbeat(lane=lane, worker=me, last_run_at=now))
        db.session.flush()


def last_runs() -> dict[str, datetime]:
    """Each lane's most recent pass by any worker."""
    return dict(db.session.execute(select(WorkerHeartbeat.lane, func.max(WorkerHeartbeat.last_run_at))
                                   .group_by(WorkerHeartbeat.lane)).all())
