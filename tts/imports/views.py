"""Uploading referral files, the import history, and a batch's report (with a live progress bar)."""
from flask import Response, abort, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from tts.api import bp as api_bp
from tts.api.auth import api_require
from tts.api.idempotency import answer, idempotent
from tts.extensions import db
from tts.imports import bp
from tts.imports.models import ImportBatch
from tts.imports.services import TEMPLATE_CSV, file_problem, history, import_now_or_later, progress_of
from tts.permissions import require
from tts.api.openapi import operation, ref

MAX_BYTES = 50 * 1024 * 1024


def _read_upload():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None, "Choose a CSV file to upload"
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return None, "The file is larger than 50 MB: split it into smaller files"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "The file must be a CSV saved as UTF-8"
    problem = file_problem(text)
    if problem:
        return None, problem
    return (upload.filename, text), None


@bp.route("/", methods=["GET", "POST"])
@require("import.run")
def index():
    error = None
    if request.method == "POST":
        upload, error = _read_upload()
        if upload:
            batch = import_now_or_later(current_user, *upload)
            return redirect(url_for("imports.show", batch_id=batch.id))
    page = db.paginate(history(), per_page=25, error_out=False)
    return render_template("imports/index.html", page=page, error=error), (400 if error else 200)


@bp.route("/<id:batch_id>")
@require("import.run", record="role")
def show(batch_id: int):
    batch = db.session.get(ImportBatch, batch_id) or abort(404)
    return render_template("imports/show.html", batch=batch, processed=progress_of(batch))


@bp.route("/<id:batch_id>/progress")
@require("import.run", record="role")
def progress(batch_id: int):
    batch = db.session.get(ImportBatch, batch_id) or abort(404)
    response = make_response(render_template("imports/_progress.html", batch=batch, processed=progress_of(batch)))
    if batch.status in ("completed", "rejected", "failed") and request.headers.get("HX-Request"):
        response.headers["HX-Refresh"] = "true"  # htmx reloads the page to show the result
    return response


@bp.route("/template.csv")
@require("import.run")
def template():
    return Response(TEMPLATE_CSV, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="tts-referrals-template.csv"'})


def batch_json(batch: ImportBatch) -> dict:
    return {"batch_id": batch.id, "status": batch.status, "rows_total": batch.rows_total,
            "rows_imported": batch.rows_imported, "duplicates": batch.duplicates, "errors": batch.errors or [],
            "matched_existing_cases": batch.matched or []}


@api_bp.post("/imports")
@operation("importFile", "Import a national-referral CSV file (small files at once, large ones in the "
           "background); a file with any bad row is rejected whole, every problem listed", ok="201",
           schema=ref("ImportBatch"), body={"multipart/form-data": {"schema": {
               "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}}},
           links={"getImport": {"batch_id": "$response.body#/batch_id"}})
@api_require("import.run")
@idempotent
def import_api():
    from flask import g

    upload, error = _read_upload()
    if error:
        return jsonify({"errors": {"file": [error]}}), 422
    batch = import_now_or_later(g.api_user, *upload)
    return answer(batch_json(batch), 201)


@api_bp.get("/imports/<id:batch_id>")
@operation("getImport", "An import's progress and problems", schema=ref("ImportBatch"))
@api_require("import.run", record="role")
def import_status(batch_id: int):
    return jsonify(batch_json(db.session.get(ImportBatch, batch_id) or abort(404)))
