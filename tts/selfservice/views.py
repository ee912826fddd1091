"""The public pages a personal link opens (`/s/<token>`): no staff account. A case proves who they are
with their date of birth, then answers one question a page; a contact confirms their advice.

Every page: `Cache-Control: no-store`, no referrer (the token is in the address), never indexed. An
unknown, expired, revoked or locked link answers the same 404 page with the team's number, so a page
never says whether a token existed. Unknown links and wrong birth dates count against the address
(tts/selfservice/services.py)."""
from datetime import datetime, timedelta
from functools import partial

from flask import abort, current_app, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from tts.clock import utcnow
from tts.errors import ValidationFailed
from tts.people.languages import name_of
from tts.permissions import Access, declare
from tts.selfservice import bp, services
from tts.selfservice.forms import (
    AddAnotherForm,
    ContactPersonForm,
    ContactResponseForm,
    LanguageForm,
    OnsetForm,
    PersonForm,
    PlacesForm,
    SupportForm,
    SymptomsForm,
    VerifyForm,
)
from tts.selfservice.links import find_link
from tts.selfservice.models import LinkPurpose, LinkStatus, SelfServiceLink
from tts.telephony.services import team_phone
from tts.audit.services import record_event
from tts.transaction import commit_step, undo

SESSION_KEY = "self_service"
VERIFIED_FOR = timedelta(hours=2)  # a verified browser keeps the form open this long without a new answer
STEPS = ("language", "symptoms", "onset", "household", "contacts", "places", "support", "check")


def personal_link(view):
    """Route decorator: no sign-in; the token in the path opens one person's pages, and nothing else."""
    return declare(view, Access("public", note="personal link: the token in the path opens one person's pages"))


class LinkNotWorking(HTTPException):
    code = 404


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.errorhandler(LinkNotWorking)
def _not_working(_error):
    return render_template("selfservice/not_found.html", team_phone=team_phone()), 404


def _link(token: str, *, verified: bool = True, allow_done: bool = False) -> SelfServiceLink:
    """The link a token opens, for this page, or the one 404 page. `verified`: a case's pages after the
    date of birth need this browser to have given it."""
    address = request.remote_addr
    wait = services.address_blocked(address)
    if wait:
        abort(_too_many(wait))
    link = find_link(token)
    if link is None:
        services.unknown_token(address)
        commit_step("an unknown link counts against the address, whatever the page does next")
        raise LinkNotWorking()
    now = utcnow()
    done_here = allow_done and link.status == LinkStatus.COMPLETED and _verified(link, now)
    if not link.is_usable(now) and not done_here:
        raise LinkNotWorking()
    if verified and link.purpose == LinkPurpose.CASE and not _verified(link, now):
        abort(redirect(url_for("selfservice.verify", token=token)))
    return link


def _too_many(wait: int):
    response = current_app.make_response((render_template("selfservice/too_many.html", team_phone=team_phone(),
                                                          minutes=max(1, round(wait / 60))), 429))
    response.headers["Retry-After"] = str(wait)
    return response


def _verified(link: SelfServiceLink, now: datetime) -> bool:
    mark = session.get(SESSION_KEY) or {}
    if mark.get("link") != link.id:
        return False
    try:
        return now - datetime.fromisoformat(mark["at"]) < VERIFIED_FOR
    except (KeyError, ValueError):
        return False


def _mark_verified(link: SelfServiceLink) -> None:
    session[SESSION_KEY] = {"link": link.id, "at": utcnow().isoformat()}


def _next(token: str, step: str, link: SelfServiceLink):
    """After a page: the next question, or back to check your answers if they came from there."""
    if request.args.get("change") or services.answers(link).get("reviewed"):
        return redirect(url_for("selfservice.check", token=token))
    return redirect(url_for(f"selfservice.{STEPS[STEPS.index(step) + 1]}", token=token))


def _page(template: str, link: SelfServiceLink, form, status: int | None = None, **values):
    if status is None:
        status = 400 if form is not None and form.errors else 200
    return render_template(f"selfservice/{template}", link=link, form=form, token=request.view_args["token"],
                           change=bool(request.args.get("change")), **values), status


# --- The first page -----------------------------------------------------------------------------------------


@bp.route("/s/<token>", methods=["GET", "POST"])
@personal_link
def start(token: str):
    link = _link(token, verified=False)
    if link.purpose == LinkPurpose.CONTACT:
        return _contact(token, link)
    return render_template("selfservice/start.html", token=token,
                           hours=current_app.config["TTS_SELF_SERVICE_HOURS"])


@bp.route("/s/<token>/verify", methods=["GET", "POST"])
@personal_link
def verify(token: str):
    link = _link(token, verified=False)
    if link.purpose != LinkPurpose.CASE:
        raise LinkNotWorking()
    form = VerifyForm()
    if form.validate_on_submit():
        result = services.verify_birth_date(link, form.date_of_birth.data, request.remote_addr)
        if result.ok:
            _mark_verified(link)
            return redirect(url_for("selfservice.language", token=token))
        if result.locked:
            return render_template("selfservice/locked.html", team_phone=team_phone()), 403
        form.date_of_birth.errors = [
            f"The date of birth does not match our records. You have {result.tries_left} more "
            f"{'try' if result.tries_left == 1 else 'tries'} before this link is locked"]
    return _page("verify.html", link, form)


# --- The questions ------------------------------------------------------------------------------------------


@bp.route("/s/<token>/language", methods=["GET", "POST"])
@personal_link
def language(token: str):
    link = _link(token)
    given = services.answers(link)
    form = LanguageForm(data={"language": given.get("language") or link.person.language or "en"})
    if form.validate_on_submit():
        services.save_answers(link, language=form.language.data)
        return _next(token, "language", link)
    return _page("language.html", link, form)


@bp.route("/s/<token>/symptoms", methods=["GET", "POST"])
@personal_link
def symptoms(token: str):
    link = _link(token)
    given = services.answers(link)
    form = SymptomsForm(data={"symptoms": given.get("symptoms") or ("yes" if link.case.symptom_onset_date else None)})
    if form.validate_on_submit():
        if form.symptoms.data == "yes":  # when they started: the next page (also after "Change")
            services.save_answers(link, symptoms="yes")
            return redirect(url_for("selfservice.onset", token=token, change=request.args.get("change")))
        services.save_answers(link, symptoms="no", onset_date=None)
        return _next(token, "onset", link)
    return _page("symptoms.html", link, form)


@bp.route("/s/<token>/onset", methods=["GET", "POST"])
@personal_link
def onset(token: str):
    link = _link(token)
    given = services.answers(link)
    known = given.get("onset_date") or (link.case.symptom_onset_date.isoformat() if link.case.symptom_onset_date else None)
    form = OnsetForm(data={"onset_date": datetime.fromisoformat(known).date() if known else None})
    if form.validate_on_submit():
        services.save_answers(link, symptoms="yes", onset_date=form.onset_date.data.isoformat())
        return _next(token, "onset", link)
    return _page("onset.html", link, form)


def _people_page(token: str, key: str):
    link = _link(token)
    people = services.answers(link).get(key, [])
    form = AddAnotherForm()
    if form.validate_on_submit():
        if form.add.data == "yes":
            return redirect(url_for(f"selfservice.{key}_add", token=token, change=request.args.get("change")))
        services.save_answers(link, **{f"{key}_done": True})
        return _next(token, key, link)
    return _page("people.html", link, form, key=key, people=people)


def _person_add(token: str, key: str, form_class, relationship: str):
    link = _link(token)
    form = form_class()
    if form.is_submitted():
        # The form's checks and the services' rules (a real phone number, a date in the case's infectious
        # period) both report, so every problem shows at once.
        form_ok = form.validate()
        entry = {"first_name": (form.first_name.data or "").strip(), "last_name": (form.last_name.data or "").strip(),
                 "phone": (form.phone.data or "").strip() or None}
        if key == "contacts":
            entry["last_contact"] = form.last_contact.data.isoformat() if form.last_contact.data else None
        try:
            services.check_person(link, entry, relationship)
        except ValidationFailed as exc:
            undo()
            form_ok = False
            for field, messages in exc.errors.items():
                target = form._fields.get(field) or form.first_name
                if not target.errors:
                    target.errors = list(messages)
        if form_ok:
            services.save_answers(link, **{key: [*services.answers(link).get(key, []), entry]})
            return redirect(url_for(f"selfservice.{key}", token=token, change=request.args.get("change")))
    return _page("person_add.html", link, form, key=key)


def _person_remove(token: str, key: str, index: int):
    link = _link(token)
    people = list(services.answers(link).get(key, []))
    if 0 <= index < len(people):
        people.pop(index)
        services.save_answers(link, **{key: people})
    return redirect(url_for(f"selfservice.{key}", token=token, change=request.args.get("change")))


# The two "add another" lists: who they live with, and who else they were close to. Each has its list page,
# an add page and a remove action (endpoints `household`, `household_add`, `household_remove`; `contacts`...).
for _key, _form, _relationship in (("household", PersonForm, "household"), ("contacts", ContactPersonForm, "close")):
    bp.add_url_rule(f"/s/<token>/{_key}", _key, personal_link(partial(_people_page, key=_key)),
                    methods=["GET", "POST"])
    bp.add_url_rule(f"/s/<token>/{_key}/add", f"{_key}_add",
                    personal_link(partial(_person_add, key=_key, form_class=_form, relationship=_relationship)),
                    methods=["GET", "POST"])
    bp.add_url_rule(f"/s/<token>/{_key}/<int:index>/remove", f"{_key}_remove",
                    personal_link(partial(_person_remove, key=_key)), methods=["POST"])


@bp.route("/s/<token>/places", methods=["GET", "POST"])
@personal_link
def places(token: str):
    link = _link(token)
    form = PlacesForm(data={"places": services.answers(link).get("places")})
    if form.validate_on_submit():
        services.save_answers(link, places=(form.places.data or "").strip())
        return _next(token, "places", link)
    return _page("places.html", link, form)


@bp.route("/s/<token>/support", methods=["GET", "POST"])
@personal_link
def support(token: str):
    link = _link(token)
    given = services.answers(link)
    form = SupportForm(data={"support": given.get("support", []), "support_detail": given.get("support_detail")})
    form.support.choices = list(services.support_kinds().items())
    if form.validate_on_submit():
        services.save_answers(link, support=form.support.data or [], support_detail=(form.support_detail.data or "").strip())
        return _next(token, "support", link)
    return _page("support.html", link, form)


@bp.route("/s/<token>/check", methods=["GET", "POST"])
@personal_link
def check(token: str):
    link = _link(token)
    errors = {}
    if request.method == "POST":
        try:
            services.complete_case_form(link)
        except ValidationFailed as exc:
            undo()
            errors = exc.errors
        else:
            return redirect(url_for("selfservice.done", token=token))
    given = services.answers(link)
    if not given.get("reviewed"):
        services.save_answers(link, reviewed=True)  # from now on, "Continue" comes back here
    record_event(None, "self_service.view", link, {"person_id": link.person_id, "page": "check"})
    return render_template("selfservice/check.html", link=link, token=token, given=given, errors=errors,
                           language=name_of(given.get("language")), kinds=services.support_kinds()), \
        (400 if errors else 200)


@bp.route("/s/<token>/done")
@personal_link
def done(token: str):
    link = _link(token, allow_done=True)
    if link.status != LinkStatus.COMPLETED:
        return redirect(url_for("selfservice.check", token=token))
    return render_template("selfservice/done.html", link=link, case=link.case, team_phone=team_phone())


# --- A contact's page ---------------------------------------------------------------------------------------


def _contact(token: str, link: SelfServiceLink):
    form = ContactResponseForm()
    if form.validate_on_submit():
        contact = services.contact_respond(link, form.response.data)
        session[SESSION_KEY] = {"responded": link.id}
        return render_template("selfservice/contact_done.html", contact=contact, response=form.response.data,
                               team_phone=team_phone())
    if request.method == "GET":
        record_event(None, "self_service.view", link, {"person_id": link.person_id, "page": "contact"})
    return render_template("selfservice/contact.html", link=link, contact=link.contact, form=form, token=token,
                           team_phone=team_phone()), (400 if form.errors else 200)

