"""Making, reading, emailing and printing letters; an admin's editing of their wording."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tts.errors import DomainError, ValidationFailed
from tts.extensions import db
from tts.input_guard import bounded_int
from tts.letters import bp
from tts.letters import services
from tts.letters.access import letter_or_403
from tts.letters.forms import EmailForm, WordingForm
from tts.letters.models import LetterKind
from tts.letters.wording import BUILT_IN, PLACEHOLDERS
from tts.outbreaks.models import Outbreak
from tts.people.access import case_or_403, contact_or_403
from tts.permissions import require
from tts.transaction import undo
from tts.ui import flash_errors, submit


def back_to(letter) -> str:
    if letter.case_id:
        return url_for("cases.show", case_id=letter.case_id) + "#letters"
    if letter.contact_id:
        return url_for("people.show", person_id=letter.contact.person_id) + "#letters"
    return url_for("outbreaks.show", outbreak_id=letter.outbreak_id) + "#letters"


def _made(letter, made: bool) -> None:
    flash(f"{letter.kind_label} {'made' if made else 'is unchanged since it was made'}: L{letter.id:06d}.", "success")


@bp.route("/cases/<id:case_id>/letters", methods=["POST"])
@require("case.create", record="own_case")
def case_letter(case_id: int):
    letter, made = services.make_letter(current_user, case_or_403(current_user, case_id))
    _made(letter, made)
    return redirect(back_to(letter))


@bp.route("/contacts/<id:contact_id>/letters", methods=["POST"])
@require("case.create", record="own_contact")
def contact_letter(contact_id: int):
    letter, made = services.make_letter(current_user, contact_or_403(current_user, contact_id))
    _made(letter, made)
    return redirect(back_to(letter))


@bp.route("/outbreaks/<id:outbreak_id>/letters", methods=["POST"])
@require("outbreak.manage", record="role")
def outbreak_letter(outbreak_id: int):
    outbreak = db.session.get(Outbreak, outbreak_id) or abort(404)
    letter, made = services.make_letter(current_user, outbreak)
    _made(letter, made)
    return redirect(back_to(letter))


@bp.route("/outbreaks/<id:outbreak_id>/letters/quarantine", methods=["POST"])
@require("outbreak.manage", record="role")
def outbreak_quarantine_letters(outbreak_id: int):
    """Quarantine letters in bulk for the contacts chosen on the outbreak page."""
    from tts.outbreaks.services import contacts_of, member_cases

    outbreak = db.session.get(Outbreak, outbreak_id) or abort(404)
    theirs = {c.id: c for c in contacts_of(outbreak, member_cases(outbreak))}
    chosen = [theirs[i] for i in (bounded_int(v, 1) for v in request.form.getlist("contact_id")) if i in theirs]
    try:
        letters = services.bulk_quarantine_letters(current_user, outbreak, chosen)
    except ValidationFailed as exc:
        undo()
        flash_errors("No letters were made", exc, {"contact_ids": "contacts"})
        return redirect(url_for("outbreaks.show", outbreak_id=outbreak.id) + "#contacts")
    flash(f"{len(letters)} quarantine letter{'s' if len(letters) != 1 else ''} ready: each is listed on the "
          f"contact's record, and below.", "success")
    return redirect(url_for("outbreaks.show", outbreak_id=outbreak.id, letters=",".join(str(x.id) for x in letters))
                    + "#letters")


@bp.route("/letters/<id:letter_id>.pdf")
@require("case.view", record="own_letter", note="outbreak letters: supervisors")
def pdf(letter_id: int):
    letter = letter_or_403(current_user, letter_id)
    try:
        content = services.pdf_of(current_user, letter)
    except DomainError:
        abort(410)
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{letter.filename}"', "Cache-Control": "no-store"})


@bp.route("/letters/<id:letter_id>/email", methods=["GET", "POST"])
@require("case.view", record="own_letter", note="outbreak letters: supervisors")
def email(letter_id: int):
    letter = letter_or_403(current_user, letter_id)
    subject = services.subject_of(letter)
    form = EmailForm()
    if not form.is_submitted():
        form.email_to.data = services.default_email(subject)
    queued = submit(form, lambda: services.request_email(current_user, letter, form.email_to.data), prefix="")
    if queued is not None:
        flash(f"{letter.kind_label} L{letter.id:06d} will be emailed to {letter.email_to} in a moment.", "success")
        return redirect(back_to(letter))
    return render_template("letters/email.html", form=form, letter=letter, back=back_to(letter),
                           available=services.email_available()), (400 if form.errors else 200)


@bp.route("/letters/<id:letter_id>/printed", methods=["POST"])
@require("case.view", record="own_letter", note="outbreak letters: supervisors")
def printed(letter_id: int):
    letter = letter_or_403(current_user, letter_id)
    services.mark_printed(current_user, letter)
    flash(f"{letter.kind_label} L{letter.id:06d} marked as printed.", "success")
    return redirect(back_to(letter))


# -- the wording (admins) ------------------------------------------------------------------------------------

@bp.route("/admin/letters")
@require("template.manage")
def templates():
    return render_template("letters/templates.html", kinds=list(LetterKind),
                           wordings={k.value: services.wording(k) for k in LetterKind})


@bp.route("/admin/letters/<kind>", methods=["GET", "POST"])
@require("template.manage")
def template_edit(kind: str):
    if kind not in LetterKind.labels():
        abort(404)
    current = services.wording(kind)
    form = WordingForm()
    if not form.is_submitted():
        form.heading.data, form.body.data = current.heading, current.body
    if request.form.get("action") == "preview":
        try:
            html = services.preview(kind, form.heading.data, form.body.data)
        except ValidationFailed as exc:
            undo()
            from tts.ui import apply_errors

            apply_errors(form, exc, prefix="")
        else:
            from tts.letters.pdf import html_to_pdf

            return Response(html_to_pdf(html), mimetype="application/pdf",
                            headers={"Content-Disposition": f'inline; filename="preview-{kind}.pdf"'})
    elif form.is_submitted():
        saved = submit(form, lambda: services.save_wording(current_user, kind, form.heading.data, form.body.data),
                       prefix="")
        if saved is not None:
            flash(f"{LetterKind.label_of(kind)}: wording saved (version {saved.version}). Letters made from now "
                  f"on use it; letters already made keep theirs.", "success")
            return redirect(url_for("letters.templates"))
    return render_template("letters/template_edit.html", form=form, kind=kind, label=LetterKind.label_of(kind),
                           placeholders=PLACEHOLDERS[kind], built_in=BUILT_IN[kind], version=current.version), \
        (400 if form.errors else 200)

