"""Export downloads, from the reports pages and the API; all audited. Large spreadsheets are built in the
background (tts/reports/export_jobs.py) and downloaded from their job page once ready."""
import os
from dataclasses import dataclass

from flask import (Response, abort, flash, g, jsonify, make_response, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_login import current_user

from tts.api import bp as api_bp
from tts.api.auth import api_require
from tts.clock import today
from tts.errors import ErrorCollector, ValidationFailed
from tts.permissions import require
from tts.reports import bp
from tts.reports.copy_csv import copy_csv_chunks, uses_copy
from tts.reports.export_jobs import (FileGone, FileNotReady, delete_job_file, expires_at, file_chunks, job_for,
                                     jobs_of, percent_of, progress_of, runs_in_background, start_job, take_file)
from tts.reports.datasets import DATASETS, Dataset, dataset
from tts.reports.exporting import XLSX_MAX_ROWS, audit_export, count_rows, csv_chunks, xlsx_file
from tts.reports.filters import Filters
from tts.reports.models import ExportJob
from tts.reports.views import parse_filters
from tts.api.openapi import operation, ref
from tts.api.schemas import DATE, check_body

FORMATS = ("csv", "xlsx")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class NotAllowed(Exception):
    """An identifiable export without the per-user grant."""


@dataclass
class Prepared:
    name: str
    fmt: str
    filters: Filters
    identifiable: bool
    ds: Dataset
    total: int


def _prepare(user, name: str, fmt: str, args) -> Prepared:
    """Check a request for an export (dates, grant, size) and count its rows; raises ValidationFailed."""
    errors = ErrorCollector()
    f = parse_filters(args, errors)
    identifiable = str(args.get("identifiable", "false")).lower() == "true"
    errors.raise_if_any()
    if identifiable and not getattr(user, "can_export_identifiable", False):
        raise NotAllowed()
    ds = dataset(name, f, identifiable)
    total = count_rows(ds)
    if fmt == "xlsx" and total >= XLSX_MAX_ROWS:
        errors.add("to", f"{total:,} rows: more than one Excel sheet holds ({XLSX_MAX_ROWS - 1:,}). "
                         "Choose a shorter date range, or download CSV.")
        errors.raise_if_any()
    return Prepared(name, fmt, f, identifiable, ds, total)


def _send(user, p: Prepared):
    """The file in this response: CSV streamed (COPY on PostgreSQL), XLSX written to a temporary file."""
    audit_export(user, p.name, p.filters, p.identifiable, p.total, p.fmt)
    filename = (f"tts-{p.name}-{p.filters.date_from}-{p.filters.date_to}"
                f"{'-identifiable' if p.identifiable else ''}.{p.fmt}")
    if p.fmt == "csv":
        chunks = copy_csv_chunks(p.ds, today()) if uses_copy() else csv_chunks(p.ds, today())
        return Response(stream_with_context(chunks), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{filename}"', "X-Row-Count": str(p.total)})
    path, _ = xlsx_file(p.ds, today())
    size = os.path.getsize(path)
    response = Response(_file_then_delete(path), mimetype=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Content-Length": str(size)})
    response.call_on_close(lambda: os.path.exists(path) and os.unlink(path))  # closed before it was read
    return response


def _file_then_delete(path: str, chunk: int = 256 * 1024):
    """The temporary file a chunk at a time, opened only while it is read, and deleted once read (or when
    the response is closed unread)."""
    try:
        with open(path, "rb") as handle:
            while piece := handle.read(chunk):
                yield piece
    finally:
        if os.path.exists(path):
            os.unlink(path)


def _known(name: str, fmt: str) -> None:
    if name not in DATASETS or fmt not in FORMATS:
        abort(404)


def _stream_job_file(job: ExportJob):
    response = Response(stream_with_context(file_chunks(job.id, job.chunk_count)),
                        mimetype=XLSX_MIME if job.fmt == "xlsx" else "text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{job.file_name}"',
                                 "X-Row-Count": str(job.rows_total)})
    if job.byte_size is not None:
        response.headers["Content-Length"] = str(job.byte_size)
    return response


# --- Pages ----------------------------------------------------------------------------------------------------

def _exports_page(errors: dict | None = None, status: int = 200):
    errors_found = ErrorCollector()
    f = parse_filters(request.args, errors_found)
    all_errors = {**errors_found.errors, **(errors or {})}
    jobs = jobs_of(current_user.id)
    return render_template("reports/exports.html", f=f, datasets=DATASETS, errors=all_errors,
                           may_identify=current_user.can_export_identifiable, jobs=jobs,
                           percent_of=percent_of), status


@bp.route("/exports")
@require("reports.export")
def exports():
    return _exports_page()


@bp.route("/exports/<name>.<fmt>")
@require("reports.export")
def download(name: str, fmt: str):
    _known(name, fmt)
    try:
        p = _prepare(current_user, name, fmt, request.args)
    except NotAllowed:
        abort(403)
    except ValidationFailed as exc:
        return _exports_page(exc.errors, 422)
    if runs_in_background(fmt, p.total):  # too big to build while the browser waits: offer a job
        return render_template("reports/export_background.html", p=p, label=name.replace("_", " "))
    return _send(current_user, p)


@bp.post("/exports/jobs")
@require("reports.export")
def start_export_job():
    name, fmt = request.form.get("dataset", ""), request.form.get("format", "")
    _known(name, fmt)
    if fmt != "xlsx":
        abort(404)  # CSV downloads stream straight away at any size
    try:
        p = _prepare(current_user, name, fmt, request.form)
    except NotAllowed:
        abort(403)
    except ValidationFailed as exc:
        return _exports_page(exc.errors, 422)
    job = start_job(current_user, name, fmt, p.filters, p.identifiable, p.total)
    return redirect(url_for("reports.export_job", job_id=job.id), 303)


def _my_job(job_id: int) -> ExportJob:
    return job_for(current_user.id, job_id) or abort(404)


@bp.route("/exports/jobs/<id:job_id>")
@require("reports.export", record="own_job")
def export_job(job_id: int):
    job = _my_job(job_id)
    return render_template("reports/export_job.html", job=job, done_rows=progress_of(job), pct=percent_of(job),
                           expires=expires_at(job))


@bp.route("/exports/jobs/<id:job_id>/progress")
@require("reports.export", record="own_job")
def export_job_progress(job_id: int):
    job = _my_job(job_id)
    response = make_response(render_template("reports/_export_progress.html", job=job, done_rows=progress_of(job),
                                             pct=percent_of(job)))
    if job.finished and request.headers.get("HX-Request"):
        response.headers["HX-Refresh"] = "true"  # htmx reloads the page to show the download link
    return response


@bp.route("/exports/jobs/<id:job_id>/file")
@require("reports.export", record="own_job")
def export_job_file(job_id: int):
    job = _my_job(job_id)
    try:
        take_file(current_user, job)
    except FileGone:
        return render_template("reports/export_job.html", job=job, done_rows=job.rows_total, pct=100,
                               expires=None), 410
    except FileNotReady:
        return redirect(url_for("reports.export_job", job_id=job.id))
    return _stream_job_file(job)


@bp.post("/exports/jobs/<id:job_id>/delete")
@require("reports.export", record="own_job")
def delete_export_file(job_id: int):
    job = _my_job(job_id)
    try:
        if delete_job_file(current_user, job):
            flash("The file is deleted.", "success")
    except FileNotReady as exc:
        flash(str(exc), "info")
    return redirect(url_for("reports.export_job", job_id=job.id), 303)


# --- API ------------------------------------------------------------------------------------------------------

def job_json(job: ExportJob) -> dict:
    out = {"job_id": job.id, "dataset": job.dataset, "format": job.fmt, "from": job.date_from.isoformat(),
           "to": job.date_to.isoformat(), "identifiable": job.identifiable, "status": job.status,
           "rows_total": job.rows_total, "rows_done": progress_of(job), "percent": percent_of(job),
           "created_at": job.created_at.isoformat(),
           "finished_at": job.finished_at.isoformat() if job.finished_at else None, "error": job.error,
           "status_url": url_for("api.export_job_api", job_id=job.id),
           "download_url": url_for("api.export_job_file_api", job_id=job.id) if job.status == "done" else None}
    expiry = expires_at(job)
    out["expires_at"] = expiry.isoformat() if expiry else None
    return out


def _accepted(job: ExportJob):
    response = jsonify(job_json(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.export_job_api", job_id=job.id)
    response.headers["Retry-After"] = "5"
    return response


_FORBIDDEN = {"error": "Identifiable exports need the export_identifiable permission"}


@api_bp.get("/exports/<name>.<fmt>")
@operation("downloadExport", "An export file (CSV streams at any size); for a spreadsheet too large to build "
           "while the client waits, 202 and the job to poll", schema={"type": "string", "format": "binary"},
           media=("text/csv", XLSX_MIME), answers=("202", "404", "422"), path_enums={"name": DATASETS, "fmt": ["csv", "xlsx"]},
           query={"from": DATE, "to": DATE, "identifiable": {"type": "string", "enum": ["true", "false"]}})
@api_require("reports.export")
def export_api(name: str, fmt: str):
    """The file; or, for a spreadsheet too large to build while the client waits, 202 and a job to poll."""
    _known(name, fmt)
    try:
        p = _prepare(g.api_user, name, fmt, request.args)
    except NotAllowed:
        return _FORBIDDEN, 403
    if runs_in_background(fmt, p.total):
        job = start_job(g.api_user, name, fmt, p.filters, p.identifiable, p.total)
        return _accepted(job)
    return _send(g.api_user, p)


@api_bp.post("/exports/jobs")
@operation("startExportJob", "Build a spreadsheet export in the background; the same request again "
           "returns the same job", ok="202", schema=ref("ExportJob"), body="ExportJobIn",
           links={"getExportJob": {"job_id": "$response.body#/job_id"},
                  "deleteExportFile": {"job_id": "$response.body#/job_id"}})
@api_require("reports.export")
def start_export_job_api():
    """Build an export in the background whatever its size: JSON {dataset, format, from, to, identifiable},
    checked against the ExportJobIn schema (the one the API description shows)."""
    errors = ErrorCollector()
    raw = request.get_json(silent=True)
    if isinstance(raw, dict):  # the schema's own messages for these two say less
        if raw.get("dataset") not in DATASETS:
            errors.add("dataset", f"Dataset must be one of {', '.join(DATASETS)}")
        if raw.get("format", "xlsx") != "xlsx":
            errors.add("format", "Format must be xlsx: CSV downloads stream straight away at any size")
    data = check_body("ExportJobIn", raw, errors)
    errors.raise_if_any()
    name, fmt, identifiable = data["dataset"], data.get("format", "xlsx"), data.get("identifiable", False)
    args = {k: data[k] for k in ("from", "to") if data.get(k)} | {"identifiable": str(identifiable).lower()}
    try:
        p = _prepare(g.api_user, name, fmt, args)
    except NotAllowed:
        return _FORBIDDEN, 403
    job = start_job(g.api_user, name, fmt, p.filters, p.identifiable, p.total)
    return _accepted(job)


def _api_job(job_id: int) -> ExportJob:
    """The token's user's own job, else 404 (nobody else learns that it exists)."""
    return job_for(g.api_user.id, job_id) or abort(404)


@api_bp.get("/exports/jobs/<id:job_id>")
@operation("getExportJob", "An export job's progress; download_url once done (only the requester's jobs)",
           schema=ref("ExportJob"))
@api_require("reports.export", record="own_job")
def export_job_api(job_id: int):
    job = _api_job(job_id)
    return jsonify(job_json(job))


@api_bp.get("/exports/jobs/<id:job_id>/file")
@operation("downloadExportFile", "The export job's file, once done (only the requester's jobs)",
           schema={"type": "string", "format": "binary"},
           media=(XLSX_MIME,), answers=("409", "410"))
@api_require("reports.export", record="own_job")
def export_job_file_api(job_id: int):
    job = take_file(g.api_user, _api_job(job_id))  # FileGone: 410; FileNotReady: 409
    return _stream_job_file(job)


@api_bp.delete("/exports/jobs/<id:job_id>")
@operation("deleteExportFile", "Delete the job's file now (the job stays, marked expired); 409 while it is "
           "built", schema=ref("ExportJob"), answers=("409",))
@api_require("reports.export", record="own_job")
def delete_export_file_api(job_id: int):
    """Delete the file now (the job stays, marked expired); 409 while it is being built."""
    job = _api_job(job_id)
    delete_job_file(g.api_user, job)  # FileNotReady: 409
    return jsonify(job_json(job))
