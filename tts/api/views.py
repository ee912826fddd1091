"""API v1 endpoints for cases, contacts and people."""
from datetime import date

from flask import g, jsonify, request

from tts.api import bp
from tts.api.auth import api_require
from tts.api.idempotency import answer, idempotent
from tts.api.schemas import check_body
from tts.api.serializers import case_json, checkin_json, contact_json, note_json, person_json, support_need_json
from tts.audit.services import record_event, record_list_view
from tts.cases import lifecycle
from tts.cases.corrections import correct_case, correct_contact
from tts.cases.finding import MAX_PER_PAGE, SORTS, find_cases, parse_search
from tts.cases.models import CaseSource, CaseStatus
from tts.cases.services import DuplicateCase, add_contact, convert_contact, create_case, view_case
from tts.errors import ErrorCollector, ValidationFailed
from tts.extensions import db
from tts.outbreaks.services import link as link_setting
from tts.people.access import case_or_403, contact_or_403, person_or_403
from tts.people.models import Person
from tts.people.validation import PersonData
from tts.selfservice.checkins import checkins_of
from tts.selfservice.links import self_service_summaries
from tts.support.services import support_needs_of
from tts.api.openapi import operation, ref

PERSON_FIELDS = ("first_name", "last_name", "date_of_birth", "phone", "email", "address", "postcode", "language")


def _date(errors: ErrorCollector, body: dict, key: str, field: str) -> date | None:
    value = body.get(key)
    if value is None or field in errors:
        return None
    if value == "":
        errors.add(field, "Enter a date in the form YYYY-MM-DD, or leave it out (null) if it is not known")
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad(value)
    except ValueError:
        errors.add(field, "Use a real date in the form YYYY-MM-DD")
        return None


def _bad(_value):
    raise ValueError


def _person(errors: ErrorCollector, body: dict) -> PersonData:
    """The person's details; their types were already checked against the request schema."""
    raw = body.get("person")
    if not isinstance(raw, dict):
        return PersonData()
    data = {k: raw.get(k) for k in PERSON_FIELDS if k != "date_of_birth" and isinstance(raw.get(k), str)}
    if "language" not in data and isinstance(body.get("language"), str):
        data["language"] = body["language"]
    return PersonData(**data, date_of_birth=_date(errors, raw, "date_of_birth", "person.date_of_birth"))


def _with_parse_errors(errors: ErrorCollector, service, *args, **kwargs):
    """Run the service so its checks report too, and answer every problem in one 422."""
    try:
        result = service(*args, **kwargs)
    except DuplicateCase:
        errors.raise_if_any()  # the request's own problems first; else the 409 with the existing case's id
        raise
    except ValidationFailed as exc:
        for field, messages in exc.errors.items():
            if field not in errors:
                for message in messages:
                    errors.add(field, message)
        errors.raise_if_any()
        raise
    errors.raise_if_any()  # raised out of the view: nothing the service wrote stands
    return result


@bp.post("/cases")
@operation("createCase", "Log a case (409 with existing_case_id when the person has a current case, unless "
           "new_episode is true)", ok="201", schema=ref("Case"), body="CaseIn", answers=("409",), links={
    "getCase": {"case_id": "$response.body#/id"}, "createContact": {"case_id": "$response.body#/id"},
    "getPerson": {"person_id": "$response.body#/person/id"},
    "createSupportNeed": {"person_id": "$response.body#/person/id"}})
@api_require("case.create")
@idempotent
def create_case_endpoint():
    errors = ErrorCollector()
    body = check_body("CaseIn", request.get_json(silent=True), errors)
    if "body" in errors:
        errors.raise_if_any()
    person = _person(errors, body)
    test_date = _date(errors, body, "test_date", "test_date")
    onset = _date(errors, body, "symptom_onset_date", "symptom_onset_date")
    source = body.get("source", CaseSource.API)
    attended = _settings_attended(errors, body.get("settings") or [])
    case = _with_parse_errors(errors, create_case, g.api_user, person, test_date=test_date,
                              symptom_onset_date=onset, source=source, new_episode=body.get("new_episode") is True)
    for setting, last_attended in attended:
        link_setting(g.api_user, setting, case=case, last_attended=last_attended, source="api")
    return answer(case_json(case, with_contacts=True), 201, f"/api/v1/cases/{case.id}")


def _settings_attended(errors: ErrorCollector, items: list) -> list:
    """The settings a new case attended, checked before anything is written: [(setting, last_attended)]."""
    from tts.outbreaks.models import Setting
    from tts.outbreaks.settings import check_attended

    found = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        setting = db.session.get(Setting, item["setting_id"]) if isinstance(item.get("setting_id"), int) else None
        if setting is None and f"settings.{i}.setting_id" not in errors:
            errors.add(f"settings.{i}.setting_id", "No setting in the register has this id")
        last = _date(errors, item, "last_attended", f"settings.{i}.last_attended")
        check_attended(errors, last, f"settings.{i}.last_attended")
        if setting is not None:
            found.append((setting, last))
    return found


@bp.get("/cases")
@operation("listCases", "Find cases: q is part of a surname (3 letters or more), a case reference, a phone number "
           "in any UK format, or a postcode; a tracer finds only the cases on their own work (audited as a list "
           "view)", schema=ref("CasePage"), query={
               "q": {"type": "string", "maxLength": 100},
               "status": {"type": "string", "enum": list(CaseStatus.labels())},
               "source": {"type": "string", "enum": list(CaseSource.labels())},
               "tracer_id": {"type": "integer", "minimum": 1},
               "district": {"type": "string"},
               "date_from": {"type": "string", "format": "date"},
               "date_to": {"type": "string", "format": "date"},
               "sort": {"type": "string", "enum": list(SORTS)},
               "page": {"type": "integer", "minimum": 1},
               "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}})
@api_require("case.view", note="a tracer finds only the cases on their own work")
def list_cases():
    search = parse_search(request.args)
    page = find_cases(g.api_user, search)
    record_list_view(g.api_user, "api.cases", [c.person_id for c in page.items])
    online = self_service_summaries([c.id for c in page.items])
    return jsonify({"items": [case_json(c, self_service=online[c.id]) | {"contact_count": page.contact_counts.get(c.id, 0)}
                              for c in page.items],
                    "total": page.total, "total_is_capped": page.more, "page": page.page,
                    "per_page": page.per_page, "pages": page.pages,
                    "matched_by": page.matched_by})


@bp.get("/cases/<id:case_id>")
@operation("getCase", "A case with its contacts (audited)", schema=ref("Case"))
@api_require("case.view", record="own_case")
def get_case(case_id: int):
    case = case_or_403(g.api_user, case_id)
    view_case(g.api_user, case)
    return jsonify(case_json(case, with_contacts=True))


@bp.post("/cases/<id:case_id>/contacts")
@operation("createContact", "Add a contact", ok="201", schema=ref("Contact"), body="ContactIn")
@api_require("case.create", record="own_case")
@idempotent
def create_contact_endpoint(case_id: int):
    case = case_or_403(g.api_user, case_id)
    errors = ErrorCollector()
    body = check_body("ContactIn", request.get_json(silent=True), errors)
    if "body" in errors:
        errors.raise_if_any()
    person = _person(errors, body)
    exposure = _date(errors, body, "last_exposure_date", "last_exposure_date")
    relationship = body.get("relationship")
    contact = _with_parse_errors(errors, add_contact, g.api_user, case, person, relationship=relationship,
                                 last_exposure_date=exposure)
    return answer(contact_json(contact), 201)


@bp.get("/people/<id:person_id>")
@operation("getPerson", "A person with their cases and contact records (audited)", schema=ref("Person"))
@api_require("person.view", record="own_person")
def get_person(person_id: int):
    return _person_answer(person_or_403(g.api_user, person_id))


def _person_answer(person):
    record_event(g.api_user, "person.view", person)
    data = person_json(person)
    data["cases"] = [case_json(c) for c in person.cases]
    data["contact_records"] = [contact_json(c, with_person=False) for c in person.contact_records]
    data["checkins"] = [checkin_json(c) for c in checkins_of(person.id)]
    data["support_needs"] = [support_need_json(n) for n in support_needs_of(person.id)]
    return jsonify(data)


@bp.get("/people/<id:person_id>/messages")
@operation("getPersonMessages", "A person's texts, newest first (audited)",
           schema={"type": "array", "items": {"type": "object"}})
@api_require("person.view", record="own_person")
def person_messages_endpoint(person_id: int):
    from tts.api.serializers import message_json
    from tts.telephony.services import person_messages

    person = person_or_403(g.api_user, person_id)
    record_event(g.api_user, "person.view", person, {"for": "messages"})
    return jsonify([message_json(m) for m in db.session.scalars(person_messages(person.id).limit(500))])


def _close(record):
    errors = ErrorCollector()
    body = check_body("CloseIn", request.get_json(silent=True), errors)
    errors.raise_if_any()
    return lifecycle.close(g.api_user, record, reason=body.get("reason"), notes=body.get("notes"))


@bp.post("/cases/<id:case_id>/close")
@operation("closeCase", "Close a case with a reason: its waiting calls are cancelled, its open escalations "
           "resolved", schema=ref("Case"), body="CloseIn")
@api_require("case.create", record="own_case")
def close_case_endpoint(case_id: int):
    case = _close(case_or_403(g.api_user, case_id))
    return jsonify(case_json(case, with_contacts=True))


@bp.post("/cases/<id:case_id>/reopen")
@operation("reopenCase", "Reopen a closed case (supervisors): a first call is queued again if they were never "
           "reached", schema=ref("Case"), answers=("422",))
@api_require("supervise", record="role")
def reopen_case_endpoint(case_id: int):
    case = lifecycle.reopen(g.api_user, case_or_403(g.api_user, case_id))
    return jsonify(case_json(case, with_contacts=True))


@bp.post("/contacts/<id:contact_id>/close")
@operation("closeContact", "Close a contact record with a reason: its waiting calls are cancelled",
           schema=ref("Contact"), body="CloseIn")
@api_require("case.create", record="own_contact")
def close_contact_endpoint(contact_id: int):
    contact = _close(contact_or_403(g.api_user, contact_id))
    return jsonify(contact_json(contact))


@bp.post("/contacts/<id:contact_id>/reopen")
@operation("reopenContact", "Reopen a closed contact record (supervisors)", schema=ref("Contact"), answers=("422",))
@api_require("supervise", record="role")
def reopen_contact_endpoint(contact_id: int):
    contact = lifecycle.reopen(g.api_user, contact_or_403(g.api_user, contact_id))
    return jsonify(contact_json(contact))


@bp.post("/contacts/<id:contact_id>/convert")
@operation("convertContact", "A contact who tested positive becomes a case, linked to the case they caught it "
           "from (exposed_by_case_id); the contact then shows became_case", ok="201", schema=ref("Case"),
           body="ConvertIn", answers=("409",), links={"getCase": {"case_id": "$response.body#/id"}})
@api_require("case.create", record="own_contact")
@idempotent
def convert_contact_endpoint(contact_id: int):
    contact = contact_or_403(g.api_user, contact_id)
    errors = ErrorCollector()
    body = check_body("ConvertIn", request.get_json(silent=True), errors)
    if "body" in errors:
        errors.raise_if_any()
    person = _person(errors, body)
    test_date = _date(errors, body, "test_date", "test_date")
    onset = _date(errors, body, "symptom_onset_date", "symptom_onset_date")
    case = _with_parse_errors(errors, convert_contact, g.api_user, contact, test_date=test_date,
                              symptom_onset_date=onset, person=person)
    return answer(case_json(case, with_contacts=True), 201, f"/api/v1/cases/{case.id}")


@bp.patch("/cases/<id:case_id>")
@operation("correctCase", "Correct a case's dates or its person's details, saying why: isolation_end_date is "
           "worked out again by the policy it was logged under", schema=ref("Case"), body="CasePatch")
@api_require("case.create", record="own_case")
def correct_case_endpoint(case_id: int):
    case = case_or_403(g.api_user, case_id)
    errors = ErrorCollector()
    body = check_body("CasePatch", request.get_json(silent=True), errors)
    if "body" in errors:
        errors.raise_if_any()
    changes = {}
    for key in ("test_date", "symptom_onset_date"):
        if key in body:
            changes[key] = _date(errors, body, key, key)
    person = _person(errors, body) if isinstance(body.get("person"), dict) else None
    _with_parse_errors(errors, correct_case, g.api_user, case, reason=body.get("reason"), person=person, **changes)
    return jsonify(case_json(case, with_contacts=True))


@bp.patch("/contacts/<id:contact_id>")
@operation("correctContact", "Correct a contact's relationship or last contact date, saying why: "
           "quarantine_end_date is worked out again", schema=ref("Contact"), body="ContactPatch")
@api_require("case.create", record="own_contact")
def correct_contact_endpoint(contact_id: int):
    contact = contact_or_403(g.api_user, contact_id)
    errors = ErrorCollector()
    body = check_body("ContactPatch", request.get_json(silent=True), errors)
    if "body" in errors:
        errors.raise_if_any()
    changes = {}
    if "relationship" in body:
        changes["relationship"] = body.get("relationship")
    if "last_exposure_date" in body:
        changes["last_exposure_date"] = _date(errors, body, "last_exposure_date", "last_exposure_date")
    _with_parse_errors(errors, correct_contact, g.api_user, contact, reason=body.get("reason"), **changes)
    return jsonify(contact_json(contact))


def _note(person, case=None):
    from tts.people.notes import add_note

    errors = ErrorCollector()
    body = check_body("NoteIn", request.get_json(silent=True), errors)
    errors.raise_if_any()
    note = add_note(g.api_user, person, body.get("text"), case=case)
    return answer(note_json(note), 201)


@bp.post("/people/<id:person_id>/notes")
@operation("addPersonNote", "A note on a person: on their timeline, audited (the event never holds the words)",
           ok="201", schema=ref("Note"), body="NoteIn")
@api_require("person.update", record="own_person")
@idempotent
def add_person_note(person_id: int):
    return _note(person_or_403(g.api_user, person_id))


@bp.post("/cases/<id:case_id>/notes")
@operation("addCaseNote", "A note on a case: on the case page and its person's timeline, audited", ok="201",
           schema=ref("Note"), body="NoteIn")
@api_require("case.create", record="own_case")
@idempotent
def add_case_note(case_id: int):
    case = case_or_403(g.api_user, case_id)
    return _note(case.person, case)


@bp.get("/people/duplicates")
@operation("listPossibleDuplicates", "Pairs of records that may be one person, among people added in the last "
           "`days` days (default 30): each with why", schema={"type": "array", "items": ref("DuplicatePair")},
           query={"days": {"type": "integer", "minimum": 1, "maximum": 365}})
@api_require("supervise", note="supervisors see everyone")
def possible_duplicates_endpoint():
    from tts.input_guard import bounded_int
    from tts.people.duplicates import DEFAULT_DAYS, possible_duplicates

    raw = request.args.get("days")
    days = bounded_int(raw, 1, 365) if raw is not None else DEFAULT_DAYS
    if days is None:
        raise ValidationFailed({"days": ["Enter a whole number of days from 1 to 365"]})
    pairs = possible_duplicates(days=days)
    record_list_view(g.api_user, "api.people.duplicates", [p.id for pair in pairs for p in (pair.person, pair.other)])
    return jsonify([{"people": [pair.person.id, pair.other.id], "reasons": pair.reasons} for pair in pairs])


@bp.post("/people/<id:person_id>/merge")
@operation("mergePerson", "Merge this record into another of the same person: everything moves to `into`, "
           "which is answered; this id then answers 410 with merged_into", schema=ref("Person"), body="MergeIn",
           answers=("410",), links={"getPerson": {"person_id": "$response.body#/id"}})
@api_require("supervise", record="role")
def merge_person_endpoint(person_id: int):
    from tts.people.merging import merge_person

    person = person_or_403(g.api_user, person_id)
    errors = ErrorCollector()
    body = check_body("MergeIn", request.get_json(silent=True), errors)
    errors.raise_if_any()
    into = db.session.get(Person, body["into"])
    if into is None:
        raise ValidationFailed({"into": [f"There is no person {body['into']}"]})
    into = person_or_403(g.api_user, into.id)
    return _person_answer(merge_person(g.api_user, person, into))
