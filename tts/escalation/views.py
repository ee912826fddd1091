"""The escalation queue, assigning doorstep visits, a field officer's visit list, visit outcomes."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tts.audit.services import audited_list_page
from tts.input_guard import record_id
from tts.auth.models import User
from tts.clock import utcnow
from tts.errors import ValidationFailed
from tts.escalation import bp
from tts.escalation.models import REASON_LABELS, VISIT_OUTCOMES, Escalation
from tts.escalation.services import assign_visit, close_escalation, filtered_escalations, record_visit, visit_list
from tts.extensions import db
from tts.people.access import may_record_visit
from tts.permissions import can, require
from tts.ui import flash_errors
from tts.transaction import undo


def field_officers() -> list[User]:
    return list(db.session.scalars(select(User).where(User.is_active.is_(True), User.is_field_officer.is_(True))
                                   .order_by(User.name)))


@bp.route("/")
@require("escalation.view")
def index():
    status = request.args.get("status", "open")
    stmt = filtered_escalations(status=status or None, reason=request.args.get("reason") or None,
                                district=request.args.get("district") or None)
    page = db.paginate(stmt, per_page=50, error_out=False)
    html = render_template("escalation/index.html", page=page, status=status, reason_labels=REASON_LABELS,
                           officers=field_officers(), visit_outcomes=VISIT_OUTCOMES, now=utcnow())
    return audited_list_page(html, current_user, "escalations", (e.person_id for e in page.items))


def _load(escalation_id: int) -> Escalation:
    escalation = db.session.get(Escalation, escalation_id) or abort(404)
    if not may_record_visit(current_user, escalation):
        abort(403)
    return escalation


def _apply(action, success: str, back: str, escalation: Escalation, targets: dict[str, str]):
    try:
        action()
    except ValidationFailed as exc:
        undo()
        flash_errors("Not saved", exc, targets, who=escalation.person.full_name)
    else:
        flash(success, "success")
    return redirect(back)


@bp.route("/<id:escalation_id>/assign", methods=["POST"])
@require("escalation.view", record="role")
def assign(escalation_id: int):
    escalation = _load(escalation_id)
    officer = db.session.get(User, request.form.get("officer_id", type=record_id) or 0)
    return _apply(lambda: assign_visit(current_user, escalation, officer),
                  f"Visit to {escalation.person.full_name} assigned to {officer.name if officer else ''}",
                  url_for("escalation.index"), escalation, {"officer_id": f"officer-{escalation.id}"})


@bp.route("/<id:escalation_id>/close", methods=["POST"])
@require("escalation.view", record="role")
def close(escalation_id: int):
    escalation = _load(escalation_id)
    return _apply(lambda: close_escalation(current_user, escalation, request.form.get("reason")),
                  f"Escalation for {escalation.person.full_name} closed", url_for("escalation.index"), escalation,
                  {"reason": f"reason-{escalation.id}"})


@bp.route("/visits")
@require(field_officer=True, or_permission="escalation.view",
         note="a field officer sees their own visits; the local team every officer's")
def visits():
    """A field officer's round; the local team (supervisors) see every officer's, and may narrow to one."""
    team = can("escalation.view")
    officer = request.args.get("officer", type=record_id) if team else current_user.id
    if team and officer is None and current_user.is_field_officer and "officer" not in request.args:
        officer = current_user.id  # a supervisor who also visits starts on their own round
    items = db.session.scalars(visit_list(officer)).all()
    html = render_template("escalation/visits.html", items=items, reason_labels=REASON_LABELS,
                           visit_outcomes=VISIT_OUTCOMES, team=team, officer=officer,
                           officers=field_officers() if team else [])
    return audited_list_page(html, current_user, "visits", (e.person_id for e in items))


@bp.route("/<id:escalation_id>/visits", methods=["POST"])
@require(record="visit", note="escalation.view, or the field officer the visit is assigned to")
def visit(escalation_id: int):
    escalation = _load(escalation_id)
    outcome = request.form.get("outcome")
    label = VISIT_OUTCOMES.get(outcome or "", "")
    back = url_for("escalation.visits") if current_user.is_field_officer or request.form.get("from") == "visits" \
        else url_for("escalation.index")
    return _apply(lambda: record_visit(current_user, escalation, outcome=outcome, notes=request.form.get("notes")),
                  f"Visit to {escalation.person.full_name} recorded: {label.lower()}", back, escalation,
                  {"outcome": f"outcome-{escalation.id}-reached", "notes": f"notes-{escalation.id}"})
