"""The person page (audited), editing details, and exact-match search."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from tts.audit.services import record_list_view
from tts.audit.services import record_event
from sqlalchemy import select

from tts.clock import utcnow
from tts.support.models import SupportNeed
from tts.callqueue.models import KIND_LABELS
from tts.callqueue.queries import person_items
from tts.telephony.client import gateway
from tts.telephony.services import person_messages
from tts.extensions import db
from tts.people import bp
from tts.people.forms import NoteForm, PersonEditForm, SearchForm
from tts.people.access import person_or_403, remember_found
from tts.people.models import Person
from tts.people.notes import add_note
from tts.people.services import search_people, update_person
from tts.people.timeline import person_timeline
from tts.permissions import require
from tts.ui import submit


# Status is always in words too: colour is never the only signal.
def load_person_or_403(person_id: int) -> Person:
    return person_or_403(current_user, person_id)


@bp.route("/people/<id:person_id>")
@require("person.view", record="own_person")
def show(person_id: int):
    person = load_person_or_403(person_id)
    record_event(current_user, "person.view", person)
    items = db.session.scalars(person_items(person.id)).all()
    messages = db.session.scalars(person_messages(person.id).limit(100)).all()
    return render_template("people/show.html", person=person, timeline=person_timeline(person), items=items,
                           kind_labels=KIND_LABELS, messages=messages, simulated=gateway().is_simulated,
                           now=utcnow(),
                           support_needs=db.session.scalars(select(SupportNeed).where(
                               SupportNeed.person_id == person.id).order_by(SupportNeed.created_at.desc())).all())


@bp.route("/people/<id:person_id>/edit", methods=["GET", "POST"])
@require("person.update", record="own_person")
def edit(person_id: int):
    person = load_person_or_403(person_id)
    form = PersonEditForm(obj=person)
    saved = submit(form, lambda: update_person(current_user, person, form.person_data(),
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
