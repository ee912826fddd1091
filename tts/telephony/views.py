"""Message templates (admins), masked calls, simulated events and unmatched replies."""
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tts.audit.services import audited_list_page
from tts.input_guard import bounded_int, record_id
from tts.callqueue.models import WorkItem
from tts.cases.models import Case, Contact
from tts.errors import DomainError, ErrorCollector
from tts.extensions import db
from tts.people.access import person_or_403
from tts.permissions import require
from tts.selfservice.links import revoke
from tts.selfservice.models import SelfServiceLink
from tts.telephony import bp, services, simulator
from tts.telephony.client import gateway
from tts.telephony.forms import AttachReplyForm, SimulateReplyForm, TemplateForm
from tts.telephony.models import Message, MessageTemplate
from tts.telephony.templates import PLACEHOLDERS
from tts.transaction import run_steps, undo
from tts.ui import submit


@bp.route("/admin/templates/")
@require("template.manage")
def templates():
    return render_template("telephony/templates.html", templates=services.list_templates(),
                           checkin_days=services.checkin_days(),
                           previews={t.id: services.preview(t.body) for t in services.list_templates()})


@bp.route("/admin/templates/<id:template_id>", methods=["GET", "POST"])
@require("template.manage", record="role")
def template_edit(template_id: int):
    template = db.session.get(MessageTemplate, template_id) or abort(404)
    form = TemplateForm(obj=template, data={"reviewed": not template.needs_review})
    translation = template.language != "en"
    saved = submit(form, lambda: services.update_template(
        current_user, template, body=form.body.data or "", is_enabled=bool(form.is_enabled.data),
        reviewed=bool(form.reviewed.data) if translation else None), prefix="")
    if saved is not None:
        flash(f"Template \u201c{template.name}\u201d saved", "success")
        return redirect(url_for("telephony.templates"))
    return render_template("telephony/template_edit.html", form=form, template=template, translation=translation,
                           english=services.get_template(template.trigger) if translation else None,
                           preview=services.preview(form.body.data or ""), placeholders=PLACEHOLDERS), \
        (400 if form.errors else 200)


@bp.route("/admin/templates/preview", methods=["POST"])
@require("template.manage")
def template_preview():
    body = (request.get_json(silent=True) or {}).get("body", "")
    return jsonify(services.preview(str(body)))


@bp.route("/queue/items/<id:item_id>/call", methods=["POST"])
@require("queue.work", record="work_item")
def call_person(item_id: int):
    """Masked click-to-call: the browser sends only the item id; the number is looked up here."""
    item = db.session.get(WorkItem, item_id) or abort(404)
    try:
        call = run_steps(services.masked_call(current_user, item))
    except DomainError as exc:  # no longer theirs (NotClaimHolder), or a number missing
        undo()
        flash(str(exc), "info")
        return redirect(url_for("callqueue.call", item_id=item_id))
    if call.status == "failed":
        flash(f"The call could not be started: {call.error_message}", "info")
    elif gateway().is_simulated:
        simulator.complete_call(call.twilio_sid)
        flash(f"Simulated call to {item.person.first_name} made and finished (no real phone rang). "
              "Record what happened below.", "success")
    else:
        flash("Your phone will ring now. Answer it and you will be connected; they see the team's number.",
              "success")
    return redirect(url_for("callqueue.call", item_id=item_id))


def _simulated_only():
    if not gateway().is_simulated:
        abort(404)


@bp.route("/people/<id:person_id>/messages/<id:message_id>/simulate", methods=["POST"])
@require("queue.work", record="own_person")
def simulate_status(person_id: int, message_id: int):
    _simulated_only()
    person_or_403(current_user, person_id)
    message = db.session.get(Message, message_id)
    if message is None or message.person_id != person_id or not message.twilio_sid:
        abort(404)
    status = request.form.get("status", "")
    if status not in ("sent", "delivered", "undelivered", "failed"):
        abort(400)
    simulator.message_status(message.twilio_sid, status, 30003 if status in ("undelivered", "failed") else None)
    flash(f"Simulated Twilio reporting the text as {status}", "success")
    return redirect(url_for("people.show", person_id=person_id) + "#messages")


@bp.route("/people/<id:person_id>/messages/simulate-reply", methods=["POST"])
@require("queue.work", record="own_person")
def simulate_reply(person_id: int):
    _simulated_only()
    person = person_or_403(current_user, person_id)
    form = SimulateReplyForm()
    if not person.phone or not (form.body.data or "").strip():
        flash("Enter the reply text", "info")
    else:
        simulator.inbound(person.phone, form.body.data)
        flash(f"Simulated a text from {person.first_name}: \u201c{form.body.data}\u201d", "success")
    return redirect(url_for("people.show", person_id=person_id) + "#messages")


@bp.route("/messages/unmatched", methods=["GET", "POST"])
@require("escalation.view")
def unmatched():
    form = AttachReplyForm()
    if form.is_submitted():
        message = db.session.get(Message, request.form.get("message_id", type=record_id) or 0) or abort(404)

        def attach():
            errors = ErrorCollector()
            ref = (form.reference.data or "").strip().upper()
            case = db.session.scalar(select(Case).where(Case.reference == (ref if ref.startswith("TTS-") else f"TTS-{ref}")))
            if case is None:
                errors.add("reference", "No case has that reference")
            errors.raise_if_any()
            return services.attach_reply(current_user, message, case.person)

        form.reference.id = f"reference-{message.id}"  # the row's field: the error summary links to it
        attached = submit(form, attach, prefix="")
        if attached is not None:
            flash("Reply attached; a callback is in the queue", "success")
            return redirect(url_for("telephony.unmatched"))
    replies = db.session.scalars(services.unmatched_replies().limit(200)).all()
    on_number = services.people_on_numbers({m.from_number for m in replies if m.from_number})
    html = render_template("telephony/unmatched.html", replies=replies, form=form, on_number=on_number)
    return audited_list_page(html, current_user, "unmatched_replies", (p.id for people in on_number.values() for p, _ in people))


# --- Personal links (the person page) ----------------------------------------------------------------------


@bp.route("/people/<id:person_id>/links/send", methods=["POST"])
@require("person.update", record="own_person")
def send_link(person_id: int):
    person = person_or_403(current_user, person_id)
    kind, _, raw = (request.form.get("record") or "").partition("-")
    model = {"case": Case, "contact": Contact}.get(kind)
    number = bounded_int(raw, 1)
    record = db.session.get(model, number) if model is not None and number else None
    try:
        services.send_link_again(current_user, person, record)
    except DomainError as exc:
        undo()
        flash(str(exc), "error")
    else:
        flash(f"A new personal link is on its way to {person.full_name}: the earlier one no longer works", "success")
    return redirect(url_for("people.show", person_id=person_id) + "#links")


@bp.route("/people/<id:person_id>/links/<id:link_id>/revoke", methods=["POST"])
@require("person.update", record="own_person")
def revoke_link(person_id: int, link_id: int):
    person = person_or_403(current_user, person_id)
    link = db.session.get(SelfServiceLink, link_id)
    if link is None or link.person_id != person.id:
        abort(404)
    revoke(current_user, link)
    flash(f"The personal link no longer works. {person.first_name} can still be called.", "success")
    return redirect(url_for("people.show", person_id=person_id) + "#links")
