"""Logging support needs (call screen, person page) and the support queue."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tts.audit.services import audited_list_page
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.people.access import person_or_403
from tts.permissions import require
from tts.support import bp
from tts.support.models import KIND_LABELS, REFERRAL_TARGETS, URGENCY_LABELS, SupportNeed, SupportStatus
from tts.ui import flash_errors
from tts.support.services import create_support_need, support_queue, update_support_need
from tts.transaction import undo


def _back(default: str) -> str:
    target = request.form.get("back") or default
    return target if target.startswith("/") and not target.startswith("//") else default


@bp.route("/people/<id:person_id>/support-needs", methods=["POST"])
@require("support.create", record="own_person")
def create(person_id: int):
    person = person_or_403(current_user, person_id)
    back = _back(url_for("people.show", person_id=person_id))
    try:
        need = create_support_need(current_user, person, kind=request.form.get("kind"),
                                   urgency=request.form.get("urgency"), notes=request.form.get("notes"))
    except ValidationFailed as exc:
        undo()
        flash_errors("Support need not saved", exc)
        return redirect(back)
    flash(f"Support need logged for {person.first_name}: {KIND_LABELS[need.kind].lower()}", "success")
    return redirect(back)


@bp.route("/support/")
@require("support.manage")
def queue():
    status = request.args.get("status", "open")
    page = db.paginate(support_queue(status=status or None), per_page=50, error_out=False)
    html = render_template("support/queue.html", page=page, status=status, kind_labels=KIND_LABELS,
                           targets=REFERRAL_TARGETS, urgency_labels=URGENCY_LABELS,
                           next_statuses=(SupportStatus.REFERRED, SupportStatus.FULFILLED, SupportStatus.DECLINED))
    return audited_list_page(html, current_user, "support_needs", (n.person_id for n in page.items))


@bp.route("/support/<id:need_id>", methods=["POST"])
@require("support.manage", record="role")
def update(need_id: int):
    need = db.session.get(SupportNeed, need_id) or abort(404)
    try:
        update_support_need(current_user, need, status=request.form.get("status"),
                            referred_to=request.form.get("referred_to") or None, notes=request.form.get("notes"),
                            notify=request.form.get("notify") == "1")
    except ValidationFailed as exc:
        undo()
        flash_errors("Not saved", exc, {"status": f"status-{need.id}", "referred_to": f"referred-{need.id}"},
                     who=need.person.full_name)
    else:
        flash(f"{KIND_LABELS[need.kind]} for {need.person.full_name}: now {need.status}"
              + (f" ({need.referred_to})" if need.referred_to else ""), "success")
    return redirect(url_for("support.queue"))
