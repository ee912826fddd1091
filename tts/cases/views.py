"""Case list, logging a case, the case page and adding contacts."""
import secrets

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from tts.audit.services import audited_list_page, record_list_view
from tts.input_guard import bounded_int, record_id
from tts.cases import bp
from tts.cases import lifecycle
from tts.cases.corrections import FIELD_LABELS, correct_case, correct_contact
from tts.cases.forms import (CLOSURE_CHOICES, EPISODE_CHOICES, RELATIONSHIP_CHOICES, CaseForm, CloseForm, ContactForm,
                             ContactRowForm,
                             ConvertForm, CorrectCaseForm, CorrectContactForm)
from tts.cases.finding import SEARCH_FIELDS, SORTS, find_cases, parse_search
from tts.cases.models import Case, CaseSource, CaseStatus, Contact
from tts.supervision.services import staff_who_call
from tts.cases.services import DuplicateCase, add_contact, add_contacts, convert_contact, create_case, view_case
from tts.people.models import Note
from tts.people.views import note_page
from tts.people.access import case_or_403, contact_or_403, may_view_case
from tts.permissions import can, require
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.transaction import undo
from tts.ui import flash_errors, submit


def load_case_or_403(case_id: int) -> Case:
    return case_or_403(current_user, case_id)


SEARCH_KEY = "case_search"  # the Cases list's criteria, kept in the session: names and phones never in URLs


@bp.route("/", methods=["GET", "POST"])
@require("case.view", note="a tracer finds only the cases on their own work")
def index():
    """The Cases list: search, filters, sort and pages; supervisors select cases for a bulk action."""
    errors: dict = {}
    if request.method == "POST":  # search or filter: checked, kept in the session, then shown (PRG)
        raw = {k: request.form.get(k, "") for k in SEARCH_FIELDS}
        try:
            parse_search(raw)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            session[SEARCH_KEY] = {k: v for k, v in raw.items() if v}
            return redirect(url_for("cases.index"))
    elif request.args.get("clear"):
        session.pop(SEARCH_KEY, None)
        return redirect(url_for("cases.index"))
    kept = dict(session.get(SEARCH_KEY, {}))  # the last search that was right: its results stay shown
    kept.update({k: request.args[k] for k in ("page", "sort", "per_page") if k in request.args})
    try:
        search = parse_search(kept)
    except ValidationFailed as exc:  # a stale or hand-edited page or sort: the first page, saying why
        errors = errors or exc.errors
        search = parse_search({k: v for k, v in kept.items() if k not in exc.errors})
    if not errors or request.method != "POST":
        raw = kept  # else the form shows what was typed, with its errors
    see_all = can("case.view_all")
    page = find_cases(current_user, search)
    html = render_template("cases/index.html", page=page, search=search, raw=raw, errors=errors, see_all=see_all,
                           status_choices=CaseStatus.labels(), source_choices=CaseSource.labels(),
                           sort_choices={k: label for k, (label, _) in SORTS.items()},
                           tracers=[(u.id, u.name) for u in staff_who_call()] if see_all else [])
    return audited_list_page(html, current_user, "cases", [c.person_id for c in page.items]), \
        (400 if errors and request.method == "POST" else 200)


@bp.route("/new", methods=["GET", "POST"])
@require("case.create")
def new():
    form = CaseForm()
    duplicate: dict = {}

    def log():
        try:
            return create_case(current_user, form.person_data(), test_date=form.test_date.data,
                               symptom_onset_date=form.symptom_onset_date.data, new_episode=form.is_new_episode)
        except DuplicateCase as exc:
            duplicate["case"] = exc.existing
            raise

    if form.new_episode.data == "no":  # the same illness: nothing to log, go to the case they have
        existing = request.form.get("existing_case_id", type=record_id)
        if existing:
            flash("Nothing new was logged: this is the case they already have.", "info")
            return redirect(url_for("cases.show", case_id=existing))
    case = submit(form, log)
    if case is not None:
        flash(f"Case {case.reference} logged for {case.person.full_name}. "
              f"Isolation ends {case.isolation_end_date:%-d %B %Y}.", "success")
        return redirect(url_for("cases.show", case_id=case.id))
    existing = duplicate.get("case")
    return render_template("cases/new.html", form=form, existing=existing, episode_choices=EPISODE_CHOICES,
                           may_see_existing=existing is not None and may_view_case(current_user, existing)), \
        (400 if form.errors else 200)


@bp.route("/<id:case_id>")
@require("case.view", record="own_case")
def show(case_id: int):
    case = load_case_or_403(case_id)
    view_case(current_user, case)
    notes = db.session.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.created_at.desc())).all()
    from tts.selfservice.links import self_service_summary

    from tts.letters.services import letters_of
    from tts.outbreaks.settings import links_of, outbreaks_of_case

    return render_template("cases/show.html", case=case, notes=notes, self_service=self_service_summary(case),
                           setting_links=links_of(case=case), outbreaks=outbreaks_of_case(case), letters=letters_of(case))


@bp.route("/<id:case_id>/contacts/new", methods=["GET", "POST"])
@require("case.create", record="own_case")
def contact_new(case_id: int):
    case = load_case_or_403(case_id)
    return_to = request.args.get("return_to", type=record_id)  # a call screen to go back to
    form = ContactForm()
    contact = submit(form, lambda: add_contact(current_user, case, form.person_data(),
                                               relationship=form.relationship.data or None,
                                               last_exposure_date=form.last_exposure_date.data))
    if contact is not None:
        flash(f"{contact.person.full_name} added as a {contact.relationship_} contact. "
              f"Quarantine ends {contact.quarantine_end_date:%-d %B %Y}.", "success")
        if return_to:
            return redirect(url_for("callqueue.call", item_id=return_to))
        return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/contact_new.html", form=form, case=case, return_to=return_to,
                           relationship_choices=RELATIONSHIP_CHOICES), (400 if form.errors else 200)


def _close_page(record, back: str):
    form = CloseForm()
    closed = submit(form, lambda: lifecycle.close(current_user, record, reason=form.reason.data or None,
                                                   notes=form.notes.data), prefix="")
    if closed is not None:
        what = f"Case {record.reference}" if isinstance(record, Case) else f"{record.person.full_name} (contact)"
        flash(f"{what} closed: {record.closure_label.lower()}. Waiting calls are cancelled.", "success")
        return redirect(back)
    return render_template("cases/close.html", form=form, record=record, back=back, is_case=isinstance(record, Case),
                           closure_choices=CLOSURE_CHOICES), (400 if form.errors else 200)


def _reopen(record, back: str):
    try:
        lifecycle.reopen(current_user, record)
    except ValidationFailed as exc:
        undo()
        flash_errors("Not reopened", exc)
    else:
        flash(f"Reopened: now {record.status_label.lower()}", "success")
    return redirect(back)


@bp.route("/<id:case_id>/close", methods=["GET", "POST"])
@require("case.create", record="own_case")
def close(case_id: int):
    case = load_case_or_403(case_id)
    return _close_page(case, url_for("cases.show", case_id=case.id))


@bp.post("/<id:case_id>/reopen")
@require("supervise", record="role")
def reopen(case_id: int):
    case = load_case_or_403(case_id)
    return _reopen(case, url_for("cases.show", case_id=case.id))


@bp.route("/contacts/<id:contact_id>/close", methods=["GET", "POST"])
@require("case.create", record="own_contact")
def contact_close(contact_id: int):
    contact: Contact = contact_or_403(current_user, contact_id)
    return _close_page(contact, url_for("cases.show", case_id=contact.case_id))


@bp.post("/contacts/<id:contact_id>/reopen")
@require("supervise", record="role")
def contact_reopen(contact_id: int):
    contact: Contact = contact_or_403(current_user, contact_id)
    return _reopen(contact, url_for("cases.show", case_id=contact.case_id))


@bp.route("/contacts/<id:contact_id>/convert", methods=["GET", "POST"])
@require("case.create", record="own_contact")
def contact_convert(contact_id: int):
    """"Log as a positive case": the contact becomes a case, linked to the case they caught it from."""
    contact: Contact = contact_or_403(current_user, contact_id)
    form = ConvertForm()
    case = submit(form, lambda: convert_contact(current_user, contact, test_date=form.test_date.data,
                                                symptom_onset_date=form.symptom_onset_date.data,
                                                person=form.person_data()))
    if case is not None:
        flash(f"Case {case.reference} logged for {case.person.full_name}, a contact of case "
              f"{contact.case.reference}. Isolation ends {case.isolation_end_date:%-d %B %Y}.", "success")
        return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/convert.html", form=form, contact=contact), (400 if form.errors else 200)


def _back_to(default: str) -> tuple[str, int | None]:
    """Where a correction returns: the call screen it was opened from (its claim kept alive), else `default`."""
    return_to = request.args.get("return_to", type=record_id)
    return (url_for("callqueue.call", item_id=return_to) if return_to else default), return_to


def _corrected_message(corrected) -> str:
    return "Corrected: " + ", ".join(FIELD_LABELS.get(f, f) for f in corrected.fields) + "."


@bp.route("/<id:case_id>/correct", methods=["GET", "POST"])
@require("case.create", record="own_case")
def correct(case_id: int):
    case = load_case_or_403(case_id)
    back, return_to = _back_to(url_for("cases.show", case_id=case.id))
    form = CorrectCaseForm(data=None if request.method == "POST" else {
        "test_date": case.test_date, "symptom_onset_date": case.symptom_onset_date})
    corrected = submit(form, lambda: correct_case(current_user, case, reason=form.reason.data,
                                                  test_date=form.test_date.data,
                                                  symptom_onset_date=form.symptom_onset_date.data), prefix="")
    if corrected is not None:
        flash(f"{_corrected_message(corrected)} Isolation now ends {case.isolation_end_date:%-d %B %Y}.", "success")
        return redirect(back)
    return render_template("cases/correct.html", form=form, record=case, is_case=True, back=back,
                           return_to=return_to), (400 if form.errors else 200)


@bp.route("/contacts/<id:contact_id>/correct", methods=["GET", "POST"])
@require("case.create", record="own_contact")
def contact_correct(contact_id: int):
    contact: Contact = contact_or_403(current_user, contact_id)
    back, return_to = _back_to(url_for("cases.show", case_id=contact.case_id))
    form = CorrectContactForm(data=None if request.method == "POST" else {
        "relationship": contact.relationship_, "last_exposure_date": contact.last_exposure_date})
    corrected = submit(form, lambda: correct_contact(current_user, contact, reason=form.reason.data,
                                                     relationship=form.relationship.data or None,
                                                     last_exposure_date=form.last_exposure_date.data), prefix="")
    if corrected is not None:
        flash(f"{_corrected_message(corrected)} Quarantine now ends {contact.quarantine_end_date:%-d %B %Y}.",
              "success")
        return redirect(back)
    return render_template("cases/correct.html", form=form, record=contact, is_case=False, back=back,
                           return_to=return_to, relationship_choices=RELATIONSHIP_CHOICES), \
        (400 if form.errors else 200)


BULK_ACTIONS = {"close": "Close", "assign": "Assign", "text": "Text"}
BULK_NONCE = "case_bulk_nonce"


@bp.post("/bulk")
@require("supervise", note="supervisors see every case: no record rule narrows it")
def bulk():
    """A bulk action on the cases selected in the list: confirm with its details, then a report of what was
    done and what was skipped, and why. A one-time token stops a refresh doing it twice."""
    from tts.cases import bulk as actions
    from tts.telephony.services import list_templates

    action = request.form.get("action", "")
    ids = [i for i in (bounded_int(v, 1) for v in request.form.getlist("case_ids")) if i is not None]
    if action not in BULK_ACTIONS:
        abort(400)
    errors: dict = {}
    if not ids:
        flash("Select at least one case, then choose what to do", "error")
        return redirect(url_for("cases.index"))
    if request.form.get("confirm"):
        nonce = request.form.get("nonce")
        if not nonce or nonce != session.get(BULK_NONCE):
            flash("That was done already: here are the cases now", "info")
            return redirect(url_for("cases.index"))
        try:
            if action == "close":
                report = actions.close_cases(current_user, ids, reason=request.form.get("reason") or None,
                                             notes=request.form.get("notes"))
            elif action == "assign":
                report = actions.assign_cases(current_user, ids, assignee_id=bounded_int(
                    request.form.get("assignee_id"), 1))
            else:
                report = actions.text_cases(current_user, ids, trigger=request.form.get("trigger") or None)
        except ValidationFailed as exc:
            undo()
            errors = exc.errors
        else:
            session.pop(BULK_NONCE, None)
            return render_template("cases/bulk_done.html", report=report)
    try:
        cases = actions.selected_cases(ids, lock=False)
    except ValidationFailed as exc:
        flash_errors("Nothing was done", exc)
        return redirect(url_for("cases.index"))
    session[BULK_NONCE] = secrets.token_urlsafe(16)
    record_list_view(current_user, "cases.bulk", [c.person_id for c in cases])
    return render_template("cases/bulk.html", action=action, verb=BULK_ACTIONS[action], cases=cases, errors=errors,
                           nonce=session[BULK_NONCE], closure_choices=CLOSURE_CHOICES, form=request.form,
                           tracers=staff_who_call(), templates=[t for t in list_templates() if t.is_enabled]), \
        (400 if errors else 200)


@bp.route("/<id:case_id>/notes/new", methods=["GET", "POST"])
@require("case.create", record="own_case")
def note_new(case_id: int):
    case = load_case_or_403(case_id)
    return note_page(case.person, url_for("cases.show", case_id=case.id) + "#notes", case=case)


LINE_LIST_ROWS, LINE_LIST_MAX = 5, 50


@bp.route("/<id:case_id>/contacts/list", methods=["GET", "POST"])
@require("case.create", record="own_case")
def contact_list(case_id: int):
    """Several contacts on one screen (a line list): every row checked, every problem shown at once, and
    nothing saved until all rows are right."""
    case = load_case_or_403(case_id)
    count = min(LINE_LIST_MAX, max(LINE_LIST_ROWS, request.form.get("rows", LINE_LIST_ROWS, type=int)))
    if request.method == "POST" and request.form.get("more"):
        count = min(LINE_LIST_MAX, count + LINE_LIST_ROWS)
    rows = [ContactRowForm(request.form if request.method == "POST" else None, prefix=f"c{i}") for i in range(count)]
    errors: dict = {}
    if request.method == "POST" and not request.form.get("more"):
        filled = [(i, row) for i, row in enumerate(rows) if not row.is_blank()]
        for i, row in filled:  # dates that are not real dates: the row's own problem, first
            row.validate()
            for field in (row.last_exposure_date, row.date_of_birth):
                if field.errors:
                    errors.setdefault(f"c{i}-{field.short_name}", []).extend(field.errors)
        try:
            added = add_contacts(current_user, case, [
                (f"c{i}", {"person": row.person_data(), "relationship": row.relationship.data or None,
                           "last_exposure_date": row.last_exposure_date.data}) for i, row in filled])
        except ValidationFailed as exc:
            undo()
            for key, messages in exc.errors.items():
                if key not in errors:
                    errors[key] = messages
        else:
            if errors:
                undo()
            else:
                flash(f"{len(added)} contact{'' if len(added) == 1 else 's'} added: "
                      + ", ".join(c.person.full_name for c in added) + ".", "success")
                return redirect(url_for("cases.show", case_id=case.id) + "#contacts")
    ordered = _in_page_order(errors, count)
    summary = {(f"{key}-day" if key.endswith("_date") or key.endswith("date_of_birth") else key): messages
               for key, messages in ordered.items()}  # a date's link goes to its day box
    return render_template("cases/contact_list.html", case=case, rows=rows, errors=ordered, summary=summary,
                           relationship_choices=RELATIONSHIP_CHOICES), (400 if errors else 200)


_ROW_FIELDS = ("first_name", "last_name", "relationship", "last_exposure_date", "phone", "date_of_birth")


def _in_page_order(errors: dict, count: int) -> dict:
    """The error summary follows the page: row by row, field by field; each key is the field's id."""
    ordered = {}
    if "rows" in errors:
        ordered["c0-first_name"] = list(errors["rows"])
    for i in range(count):
        for name in _ROW_FIELDS:
            key = f"c{i}-{name}"
            if key in errors:
                ordered[key] = [f"Contact {i + 1}: {m[0].lower() + m[1:]}" for m in errors[key]]
        rest = [k for k in errors if k.startswith(f"c{i}-") and k.split("-", 1)[1] not in _ROW_FIELDS]
        for key in rest:  # a rule about the row as a whole (already a contact...)
            ordered.setdefault(f"c{i}-first_name", []).extend(f"Contact {i + 1}: {m}" for m in errors[key])
    return ordered
