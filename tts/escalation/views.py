"""The escalation queue (supervisors); doorstep visits build on it."""
from flask import render_template, request

from tts.escalation import bp
from tts.escalation.models import REASON_LABELS
from tts.escalation.services import escalations_query
from tts.extensions import db
from tts.permissions import require


@bp.route("/")
@require("escalation.view")
def index():
    status = request.args.get("status", "open")
    page = db.paginate(escalations_query(status=status or None), per_page=50, error_out=False)
    return render_template("escalation/index.html", page=page, status=status, reason_labels=REASON_LABELS)
