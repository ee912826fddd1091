"""Exports built in the background by the worker, with progress.

A spreadsheet of a few hundred thousand rows takes a minute or more to write: longer than a browser or a
web worker should wait. Above `TTS_EXPORT_INLINE_MAX_ROWS` an XLSX export becomes a job: the worker
writes the file (XlsxWriter's constant-memory mode, as for a direct download), reporting its progress
every few thousand rows, then keeps it in the database in one-megabyte chunks for
`TTS_EXPORT_KEEP_HOURS`, so that any web process can stream it and nothing depends on one machine's disk.
Only the person who asked can see the job or download the file; both the request and every download
are audited.
"""
import logging
import os
from collections.abc import Iterator
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, insert, select, text, update

from tts.jobs import job, run_pending
from tts.audit.services import record_event
from tts.clock import today, utcnow
from tts.errors import DomainError
from tts.extensions import db
from tts.reports.datasets import dataset
from tts.reports.exporting import ExportTooLarge, audit_export, xlsx_file
from tts.reports.filters import Filters
from tts.reports.models import ExportFileChunk, ExportJob

log = logging.getLogger(__name__)
CHUNK_BYTES = 1024 * 1024
PROGRESS_EVERY = 5_000  # rows between progress reports
LIVE = ("pending", "running")
STALE_AFTER = timedelta(hours=2)  # a job "running" this long lost its worker


def runs_in_background(fmt: str, total: int) -> bool:
    return fmt == "xlsx" and total > current_app.config["TTS_EXPORT_INLINE_MAX_ROWS"]


def start_job(actor, name: str, fmt: str, f: Filters, identifiable: bool, total: int) -> ExportJob:
    """Queue an export for the worker; the same request again while it is queued or running gets the
    same job (a double click, or an API client retrying, builds one file)."""
    same = db.session.scalars(select(ExportJob).where(
        ExportJob.created_by_id == actor.id, ExportJob.dataset == name, ExportJob.fmt == fmt,
        ExportJob.date_from == f.date_from, ExportJob.date_to == f.date_to,
        ExportJob.identifiable == identifiable, ExportJob.status.in_(LIVE))).first()
    if same is not None:
        return same
    job = ExportJob(created_by_id=actor.id, dataset=name, fmt=fmt, date_from=f.date_from, date_to=f.date_to,
                    identifiable=identifiable, status="pending", rows_total=total)
    db.session.add(job)
    db.session.flush()
    audit_export(actor, name, f, identifiable, total, fmt, job_id=job.id)
    return job


def jobs_of(user_id: int, limit: int = 10) -> list[ExportJob]:
    return list(db.session.scalars(select(ExportJob).where(ExportJob.created_by_id == user_id)
                                   .order_by(ExportJob.id.desc()).limit(limit)))


def job_for(user_id: int, job_id: int) -> ExportJob | None:
    """The job if it is this user's: nobody else learns that it exists."""
    job = db.session.get(ExportJob, job_id)
    return job if job is not None and job.created_by_id == user_id else None


def expires_at(job: ExportJob):
    if job.status != "done" or job.finished_at is None:
        return None
    return job.finished_at + timedelta(hours=current_app.config["TTS_EXPORT_KEEP_HOURS"])


# --- Progress ------------------------------------------------------------------------------------------------

_progress_here: dict[int, int] = {}  # SQLite: the worker's transaction holds the write lock; progress in memory


def progress_of(job: ExportJob) -> int:
    if job.status == "done":
        return job.rows_total
    return max(job.rows_done, _progress_here.get(job.id, 0))


def percent_of(job: ExportJob) -> int:
    if job.finished:
        return 100
    return min(99, int(100 * progress_of(job) / job.rows_total)) if job.rows_total else 0


# --- In the worker --------------------------------------------------------------------------------------------

@job("exports", lane="slow")
def run_pending_export_jobs() -> int:
    """Take the oldest queued export (SKIP LOCKED: one worker per job), build its file, keep it."""
    return run_pending(ExportJob, _build, _build_failed, status="running", started_at=utcnow())


def _build(job_id: int):
    postgres = db.session.get_bind().dialect.name == "postgresql"

    def progress(done: int) -> None:
        _progress_here[job_id] = done
        if postgres:  # a second connection, so the browser sees it while this transaction reads
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE export_jobs SET rows_done = :n WHERE id = :id"), {"n": done, "id": job_id})

    path = None
    try:
        job = db.session.get(ExportJob, job_id)
        ds = dataset(job.dataset, Filters(job.date_from, job.date_to), job.identifiable)
        path, rows = xlsx_file(ds, today(), progress=progress, every=PROGRESS_EVERY)
        yield "the long read ends before the file is written in"
        size, chunks = _store(job_id, path)
        db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
            status="done", rows_done=rows, rows_total=rows, byte_size=size, chunk_count=chunks,
            finished_at=utcnow()))
    finally:
        _progress_here.pop(job_id, None)
        if path and os.path.exists(path):
            os.unlink(path)


def _build_failed(job_id: int, error: Exception) -> None:
    if isinstance(error, ExportTooLarge):
        reason = str(error)
    else:  # the details are in the worker's log (no personal data there: ids and the traceback)
        log.exception("export job %s failed", job_id)
        reason = "The file could not be built. Start the export again; if it fails again, tell your administrator."
    db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
        status="failed", error=reason[:300], finished_at=utcnow()))


def _store(job_id: int, path: str) -> tuple[int, int]:
    """The file into the database a megabyte at a time (never the whole file in memory)."""
    size = seq = 0
    with open(path, "rb") as handle:
        while piece := handle.read(CHUNK_BYTES):
            db.session.execute(insert(ExportFileChunk), [{"job_id": job_id, "seq": seq, "data": piece}])
            size += len(piece)
            seq += 1
    return size, seq


@job("exports_expired", lane="slow")
def expire_exports() -> int:
    """Files kept longer than TTS_EXPORT_KEEP_HOURS are deleted (the job stays, marked expired); a job left
    'running' by a worker that stopped is marked failed so that its owner can start it again."""
    now = utcnow()
    cutoff = now - timedelta(hours=current_app.config["TTS_EXPORT_KEEP_HOURS"])
    old = select(ExportJob.id).where(ExportJob.status == "done", ExportJob.finished_at < cutoff)
    ids = list(db.session.scalars(old))
    if ids:
        db.session.execute(delete(ExportFileChunk).where(ExportFileChunk.job_id.in_(ids)))
        db.session.execute(update(ExportJob).where(ExportJob.id.in_(ids)).values(status="expired", chunk_count=0))
    stale = db.session.execute(update(ExportJob).where(
        ExportJob.status == "running", ExportJob.started_at < now - STALE_AFTER).values(
        status="failed", finished_at=now, error="The worker stopped while building the file. Start the export again."))
    return len(ids) + (stale.rowcount or 0)


def delete_file(actor, job: ExportJob) -> None:
    """The requester deletes their file before its time (an identifiable one as soon as it is saved
    where it belongs): the chunks go, the job stays as a record, marked expired."""
    db.session.execute(delete(ExportFileChunk).where(ExportFileChunk.job_id == job.id))
    job.status, job.chunk_count = "expired", 0
    record_event(actor, "export.delete", None, {"job_id": job.id, "dataset": job.dataset,
                                                 "identifiable": job.identifiable})


# --- Downloads ------------------------------------------------------------------------------------------------

class FileNotReady(DomainError):
    http_status = 409


class FileGone(DomainError):
    http_status = 410


def take_file(actor, job: ExportJob) -> ExportJob:
    """The job's file for the person who asked (the web page and the API alike): gone once deleted, not
    ready before it is built; the download is audited."""
    if job.status == "expired":
        raise FileGone("The file is deleted (after its keeping time, or by you): start the export again")
    if job.status != "done":
        raise FileNotReady(f"The file is not ready: the job is {job.status}")
    record_download(actor, job)
    return job


def delete_job_file(actor, job: ExportJob) -> bool:
    """Delete the job's file now (the web page and the API alike); not while it is being built. True when
    a file was deleted (an expired job has none)."""
    if job.status in ("pending", "running"):
        raise FileNotReady(f"The file is not built yet: the job is {job.status}")
    if job.status != "done":
        return False
    delete_file(actor, job)
    return True


def record_download(actor, job: ExportJob) -> None:
    record_event(actor, "export.download", None, {"job_id": job.id, "dataset": job.dataset, "format": job.fmt,
                                                   "identifiable": job.identifiable, "rows": job.rows_total})


def file_chunks(job_id: int, count: int) -> Iterator[bytes]:
    """The file a chunk at a time, each read in its own short transaction (no transaction stays open
    while a slow client reads)."""
    for seq in range(count):
        data = db.session.scalar(select(ExportFileChunk.data).where(ExportFileChunk.job_id == job_id,
                                                                    ExportFileChunk.seq == seq))
        db.session.rollback()  # ends this chunk's read (it wrote nothing): no transaction stays open while the client reads
        if data is None:
            raise RuntimeError(f"export job {job_id} lost chunk {seq}")
        yield bytes(data)
