"""Background jobs, and the one runner that runs them.

A feature declares a job with `@job(name, lane=...)` on a plain function; the worker (tts/worker.py) runs
each lane's jobs in turn, and calling the function anywhere else (a CLI command, a test) runs it the same
way. The runner is the job's transaction boundary: what the job wrote is committed when it returns, and
rolled back if it fails. A job that must put its work on record at points along the way (the outbox
marks texts as sending before Twilio is called) is a generator: it yields at each point, the reason being
what it yields, and the runner commits there (tts/transaction.py, `run_steps`). Nothing else commits.

Work that waits in a table (imports, export files, planner runs: rows whose status is "pending") is
taken with `run_pending`: the oldest row, by one worker only, marked as taken and committed at once (no
lock is held while the work runs, which takes minutes), then worked; a failure marks that row failed.
"""
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from sqlalchemy import func, select

from tts.extensions import db
from tts.transaction import run_steps

log = logging.getLogger(__name__)

# PostgreSQL advisory lock keys: with several workers, only one runs each of these jobs at a time.
LOCK_SWEEP, LOCK_RECONCILE, LOCK_RETENTION, LOCK_KPI, LOCK_COMPLETE = 7211, 7212, 7213, 7214, 7215
# Every few seconds (texts, scanners); minutes-long work on a thread of its own; the audit chain's sealer,
# every second on a thread of its own (tts/audit/sealer.py).
LANES = ("pass", "slow", "audit")


@dataclass(frozen=True)
class Job:
    name: str
    function: Callable
    lane: str
    lock: int | None = None  # one worker at a time (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises anyway)
    when: Callable[[], bool] | None = None  # run only when this says so (checked under the lock)


JOBS: dict[str, Job] = {}


def job(name: str, *, lane: str = "pass", lock: int | None = None, when: Callable[[], bool] | None = None):
    """Declare `function` as the background job `name` (what the worker's pass reports its count as)."""
    if lane not in LANES:
        raise ValueError(f"unknown lane {lane!r}")

    def declare(function: Callable) -> Callable:
        declared = Job(name, function, lane, lock, when)
        known = JOBS.get(name)
        if known is not None and (known.function.__module__, known.function.__qualname__) != \
                (function.__module__, function.__qualname__):
            raise ValueError(f"two jobs are called {name!r}")
        JOBS[name] = declared

        @wraps(function)
        def run(*args, **kwargs):
            return run_job(declared, *args, **kwargs)

        run.job = declared
        return run

    return declare


def run_job(declared: Job, *args, **kwargs) -> Any:
    """The job's boundary: run it (in steps, if it yields), commit; roll back if it fails."""
    try:
        if declared.lock is not None and not advisory_lock(declared.lock):
            result = 0
        elif declared.when is not None and not declared.when():
            result = 0
        else:
            result = declared.function(*args, **kwargs)
            if inspect.isgenerator(result):
                result = run_steps(result)
        db.session.commit()  # the job runner's boundary (it also releases the job's advisory lock)
        return result
    except BaseException:
        db.session.rollback()
        raise


def lane_finished(lane: str) -> None:
    """A worker finished a pass of `lane`: its heartbeat is committed (tts/ops/heartbeats.py, for /metrics)."""
    from tts.ops.heartbeats import beat

    beat(lane)
    db.session.commit()  # the job runner's boundary: the heartbeat of a finished pass


def advisory_lock(key: int, sub: Any = None, *, wait: bool = False) -> bool:
    """A PostgreSQL advisory lock held until this transaction ends; False if another holds it (unless
    `wait`). SQLite needs none: BEGIN IMMEDIATE already serialises writers."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    args = (key,) if sub is None else (key, func.hashtext(sub))
    if wait:
        db.session.execute(select(func.pg_advisory_xact_lock(*args)))
        return True
    return bool(db.session.scalar(select(func.pg_try_advisory_xact_lock(*args))))


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
    db.session.commit()  # the job runner's step: taken, visible as such, no lock held while it runs
    return row


def run_pending(model: Any, work: Callable[[int], Any], failed: Callable[[int, Exception], None],
                **claimed: Any) -> int:
    """Take the oldest pending row of `model` (`claim_pending`) and do `work(row_id)` (in steps, if it
    yields), committing when it is done. If it fails, its writes are rolled back, `failed(row_id, error)`
    marks the row (the details go to the log, never to the row: they can quote personal data) and that is
    committed. Returns 1 if a row was taken, else 0."""
    row = claim_pending(model, **claimed)
    if row is None:
        return 0
    row_id = row.id
    try:
        result = work(row_id)
        if inspect.isgenerator(result):
            run_steps(result)
        db.session.commit()  # the job runner's boundary: the work is done
    except Exception as error:
        db.session.rollback()
        failed(row_id, error)
        db.session.commit()  # the job runner's boundary: the row says it failed
    return 1
