"""The person page (audited), editing details, and exact-match search."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tts.audit.services import audited_list_page, record_list_view
from tts.audit.services import record_event
from sqlalchemy import select

from tts.clock import utcnow
from tts.support.models import SupportNeed
from tts.callqueue.models import KIND_LABELS
from tts.callqueue.queries import person_items
from tts.telephony.client import gateway
from tts.telephony.services import links_of, person_messages
from tts.extensions import db
from tts.people import bp
from tts.people.forms import NoteForm, PersonEditForm, SearchForm
from tts.selfservice.checkins import checkins_of
from tts.selfservice.models import LinkStatus
from tts.people.access import person_or_403, remember_found
from tts.people.models import Person
from tts.people.duplicates import REASON_LABELS, dismiss, possible_duplicates, reasons_for
from tts.people.merging import PersonMerged, merge_person
from tts.people.notes import add_note
from tts.cases.corrections import correct_person
from tts.people.services import search_people
from tts.people.timeline import person_timeline
from tts.permissions import require
from tts.errors import ValidationFailed
from tts.input_guard import record_id
from tts.transaction import undo
from tts.ui import submit


# Status is always in words too: colour is never the only signal.
def load_person_or_403(person_id: int) -> Person:
    """The person, or the record they were merged into (with a notice saying so)."""
    try:
        return person_or_403(current_user, person_id)
    except PersonMerged as merged:
        flash(f"That record was merged into this one (person {merged.merged_into_id}).", "info")
        abort(redirect(url_for("people.show", person_id=merged.merged_into_id)))


@bp.route("/people/<id:person_id>")
@require("person.view", record="own_person")
def show(person_id: int):
    person = load_person_or_403(person_id)
    record_event(current_user, "person.view", person)
    items = db.session.scalars(person_items(person.id)).all()
    messages = db.session.scalars(person_messages(person.id).limit(100)).all()
    from tts.letters.services import person_letters
    from tts.outbreaks.settings import contact_links_of_person

    return render_template("people/show.html", person=person, letters=person_letters(person.id),
                           contact_setting_links=contact_links_of_person(person.id), timeline=person_timeline(person), items=items,
                           kind_labels=KIND_LABELS, messages=messages, simulated=gateway().is_simulated,
                           now=utcnow(),
                           support_needs=db.session.scalars(select(SupportNeed).where(
                               SupportNeed.person_id == person.id).order_by(SupportNeed.created_at.desc())).all(),
                           links=links_of(person.id), checkins=checkins_of(person.id),
                           link_status_labels=LinkStatus.labels(), link_status_tags={s.value: s.tag for s in LinkStatus})


@bp.route("/people/<id:person_id>/edit", methods=["GET", "POST"])
@require("person.update", record="own_person")
def edit(person_id: int):
    person = load_person_or_403(person_id)
    form = PersonEditForm(obj=person)
    saved = submit(form, lambda: correct_person(current_user, person, form.person_data(), reason=form.reason.data,
                                                is_vulnerable=form.is_vulnerable.data,
                                                has_sms_opt_out=form.has_sms_opt_out.data), prefix="")
    if saved is not None:
        flash(f"Details for {person.full_name} saved", "success")
        return redirect(url_for("people.show", person_id=person.id))
    if not form.is_submitted():
        record_event(current_user, "person.view", person, {"for": "edit"})
    return render_template("people/edit.html", form=form, person=person), (400 if form.errors else 200)


# Search is a POST so names, numbers and dates of birth never appear in URLs or access logs.
@bp.route("/search", methods=["GET", "POST"])
@require("person.search")
def search():
    form = SearchForm()
    results = submit(form, lambda: search_people(current_user, reference=form.reference.data, phone=form.phone.data,
                                                 name=form.name.data, date_of_birth=form.date_of_birth.data),
                     prefix="")
    if results is not None:
        remember_found(results)  # an exact search is how a tracer may open someone not on their work
        record_list_view(current_user, "search", (p.id for p in results))
    return render_template("people/search.html", form=form, results=results), (400 if form.errors else 200)


def note_page(person, back: str, case=None):
    """Add a note to a person or (case given) to their case: the page, its errors, and back."""
    form = NoteForm()
    note = submit(form, lambda: add_note(current_user, person, form.text.data, case=case), prefix="")
    if note is not None:
        flash("Note saved", "success")
        return redirect(back)
    return render_template("people/note_new.html", form=form, person=person, case=case, back=back), \
        (400 if form.errors else 200)


@bp.route("/people/<id:person_id>/notes/new", methods=["GET", "POST"])
@require("person.update", record="own_person")
def note_new(person_id: int):
    person = load_person_or_403(person_id)
    return note_page(person, url_for("people.show", person_id=person.id) + "#timeline")


@bp.route("/people/duplicates")
@require("supervise", note="supervisors see everyone")
def duplicates():
    """Possible duplicates among the people added in the last 30 days, to compare and merge or dismiss."""
    pairs = possible_duplicates()
    html = render_template("people/duplicates.html", pairs=pairs, reason_labels=REASON_LABELS)
    return audited_list_page(html, current_user, "people.duplicates",
                             [p.id for pair in pairs for p in (pair.person, pair.other)])


def _pair(person_id: int) -> tuple[Person, Person]:
    person = load_person_or_403(person_id)
    other_id = request.values.get("with", type=record_id)
    if other_id is None:  # which pair? the list says
        abort(redirect(url_for("people.duplicates")))
    other = load_person_or_403(other_id)
    if other.id == person.id:
        abort(404)
    return person, other


@bp.route("/people/<id:person_id>/merge", methods=["GET", "POST"])
@require("supervise", record="role")
def merge(person_id: int):
    """Two records side by side; the supervisor chooses the one to keep and the other is merged into it."""
    person, other = _pair(person_id)
    errors: dict = {}
    if request.method == "POST":
        keep = request.form.get("keep", type=record_id)
        if keep not in (person.id, other.id):
            errors = {"keep": ["Choose the record to keep"]}
        else:
            kept, gone = (person, other) if keep == person.id else (other, person)
            try:
                merge_person(current_user, gone, kept)
            except ValidationFailed as exc:
                undo()
                errors = {"keep": [m for ms in exc.errors.values() for m in ms]}
            else:
                flash(f"Merged: record {gone.id} is now part of this one. Everything of theirs is here.", "success")
                return redirect(url_for("people.show", person_id=kept.id))
    for shown in (person, other):
        record_event(current_user, "person.view", shown, {"for": "merge"})
    return render_template("people/merge.html", person=person, other=other, errors=errors,
                           reasons=[REASON_LABELS[r] for r in reasons_for(person, other)]), (400 if errors else 200)


@bp.post("/people/<id:person_id>/not-duplicate")
@require("supervise", record="role")
def not_duplicate(person_id: int):
    person, other = _pair(person_id)
    dismiss(current_user, person, other)
    flash(f"Noted: {person.full_name} ({person.id}) and {other.full_name} ({other.id}) are different people.",
          "success")
    return redirect(url_for("people.duplicates"))
