"""Export downloads, from the reports pages and the API; both audited."""
import os

from flask import Response, abort, g, render_template, request, send_file, stream_with_context
from flask_login import current_user

from tts.api import bp as api_bp
from tts.api.auth import api_require
from tts.clock import today
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.permissions import require
from tts.reports import bp
from tts.reports.copy_csv import copy_csv_chunks, uses_copy
from tts.reports.exporting import (DATASETS, XLSX_MAX_ROWS, audit_export, count_rows, csv_chunks, dataset,
                                   xlsx_file)
from tts.reports.views import parse_filters


def _export(user, name: str, fmt: str):
    if name not in DATASETS or fmt not in ("csv", "xlsx"):
        abort(404)
    errors = ErrorCollector()
    f = parse_filters(request.args, errors)
    identifiable = request.args.get("identifiable", "false").lower() == "true"
    errors.raise_if_any()
    if identifiable and not getattr(user, "can_export_identifiable", False):
        return None  # the caller answers 403
    ds = dataset(name, f, identifiable)
    total = count_rows(ds)
    if fmt == "xlsx" and total >= XLSX_MAX_ROWS:
        errors.add("to", f"{total:,} rows: more than one Excel sheet holds ({XLSX_MAX_ROWS - 1:,}). "
                         "Choose a shorter date range, or download CSV.")
        errors.raise_if_any()
    audit_export(user, name, f, identifiable, total, fmt)
    db.session.commit()
    filename = f"tts-{name}-{f.date_from}-{f.date_to}{'-identifiable' if identifiable else ''}.{fmt}"
    if fmt == "csv":
        chunks = copy_csv_chunks(ds, today()) if uses_copy() else csv_chunks(ds, today())
        body = stream_with_context(chunks)
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{filename}"', "X-Row-Count": str(total)})
    path = xlsx_file(ds, today())
    response = send_file(path, download_name=filename, as_attachment=True,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.call_on_close(lambda: os.path.exists(path) and os.unlink(path))
    return response


@bp.route("/exports")
@require("reports.export")
def exports():
    errors = ErrorCollector()
    f = parse_filters(request.args, errors)
    return render_template("reports/exports.html", f=f, datasets=DATASETS, errors=errors.errors,
                           may_identify=current_user.can_export_identifiable)


@bp.route("/exports/<name>.<fmt>")
@require("reports.export")
def download(name: str, fmt: str):
    response = _export(current_user, name, fmt)
    if response is None:
        abort(403)
    return response


@api_bp.get("/exports/<name>.<fmt>")
@api_require("reports.export")
def export_api(name: str, fmt: str):
    response = _export(g.api_user, name, fmt)
    if response is None:
        return {"error": "Identifiable exports need the export_identifiable permission"}, 403
    return response
