"""API v1 for settings and outbreaks: the register, a case's settings, outbreaks, their actions and status."""
from flask import abort, g, jsonify, request

from tts.api import bp
from tts.api.auth import api_require
from tts.api.idempotency import answer, idempotent
from tts.api.openapi import operation
from tts.api.schemas import check_body
from tts.api.serializers import _d
from tts.audit.services import record_event
from tts.errors import ErrorCollector, ValidationFailed
from tts.extensions import db
from tts.outbreaks import services
from tts.outbreaks.models import Outbreak, OutbreakAction, OutbreakStatus, Setting, SettingKind, SettingLink
from tts.outbreaks.settings import SettingData, create_setting, search_settings
from tts.people.access import case_or_403, contact_or_403

SETTING = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "address": {"type": ["string", "null"]}, "postcode": {"type": "string"},
    "contact_name": {"type": ["string", "null"]}, "contact_phone": {"type": ["string", "null"]},
    "contact_email": {"type": ["string", "null"]}, "size": {"type": ["integer", "null"]},
    "notes": {"type": ["string", "null"]}, "live_outbreak_id": {"type": ["integer", "null"]}},
    "required": ["id", "name", "kind", "postcode"]}
SETTING_LINK = {"type": "object", "properties": {
    "id": {"type": "integer"}, "setting_id": {"type": "integer"}, "case_id": {"type": ["integer", "null"]},
    "contact_id": {"type": ["integer", "null"]},
    "last_attended": {"type": ["string", "null"], "format": "date"}, "outbreak_id": {"type": ["integer", "null"]}},
    "required": ["id", "setting_id", "case_id"]}
ACTION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "notes": {"type": ["string", "null"]},
    "due_date": {"type": ["string", "null"], "format": "date"}, "done": {"type": "boolean"},
    "done_at": {"type": ["string", "null"]}, "created_at": {"type": "string"},
    "created_by_id": {"type": ["integer", "null"]}, "band": {"type": "integer"}},
    "required": ["id", "kind", "done"]}
OUTBREAK = {"type": "object", "properties": {
    "id": {"type": "integer"}, "reference": {"type": "string"}, "setting_id": {"type": "integer"},
    "setting": SETTING, "status": {"type": "string", "enum": list(OutbreakStatus.labels())},
    "case_ids": {"type": "array", "items": {"type": "integer"}}, "opened_at": {"type": "string"},
    "opened_by_rule": {"type": "boolean"}, "closure_proposed_at": {"type": ["string", "null"]},
    "chain": {"type": "array", "items": {"type": "object", "properties": {
        "from_case_id": {"type": "integer"}, "to_case_id": {"type": "integer"}}}},
    "actions": {"type": "array", "items": ACTION}},
    "required": ["id", "setting_id", "status", "case_ids", "opened_at"]}


def setting_json(setting: Setting, live: Outbreak | None = None) -> dict:
    return {"id": setting.id, "name": setting.name, "kind": setting.kind, "address": setting.address,
            "postcode": setting.postcode, "contact_name": setting.contact_name,
            "contact_phone": setting.contact_phone, "contact_email": setting.contact_email, "size": setting.size,
            "notes": setting.notes, "live_outbreak_id": live.id if live else None}


def action_json(action: OutbreakAction) -> dict:
    return {"id": action.id, "kind": action.kind, "notes": action.notes, "due_date": _d(action.due_date),
            "done": action.is_done, "done_at": _d(action.done_at), "created_at": _d(action.created_at),
            "created_by_id": action.created_by_id, "done_by_id": action.done_by_id, "band": action.band}


def outbreak_json(outbreak: Outbreak, *, full: bool = False) -> dict:
    data = {"id": outbreak.id, "reference": outbreak.reference, "setting_id": outbreak.setting_id,
            "status": outbreak.status, "case_ids": services.case_ids(outbreak), "opened_at": _d(outbreak.opened_at),
            "opened_by_rule": outbreak.found_by_rule, "opened_reason": outbreak.opened_reason,
            "status_reason": outbreak.status_reason, "closed_at": _d(outbreak.closed_at),
            "closure_proposed_at": _d(outbreak.closure_proposed_at)}
    if full:
        cases = services.member_cases(outbreak)
        data["setting"] = setting_json(outbreak.setting, outbreak if outbreak.status != "closed" else None)
        data["chain"] = [{"from_case_id": a.id, "to_case_id": b.id} for a, b in services.chain(cases)]
        data["actions"] = [action_json(a) for a in outbreak.actions]
        contacts = services.contacts_of(outbreak, cases)
        data["contact_ids"] = [c.id for c in contacts]
        data["cases"] = [{"id": c.id, "reference": c.reference, "status": c.status, "test_date": _d(c.test_date),
                          "symptom_onset_date": _d(c.symptom_onset_date), "exposed_by_case_id": c.exposed_by_case_id}
                         for c in cases]
        data["contacts"] = [{"id": c.id, "case_id": c.case_id, "status": c.status, "relationship": c.relationship_,
                             "last_exposure_date": _d(c.last_exposure_date)} for c in contacts]
        data["epicurve"] = [{"day": _d(d["day"]), "onset": d["onset"], "test": d["test"]}
                            for d in services.epicurve(cases)]
    return data


def _body(schema: str, errors: ErrorCollector) -> dict:
    body = check_body(schema, request.get_json(silent=True), errors)
    if "body" in errors:
        errors.raise_if_any()
    return body


def _date(errors: ErrorCollector, body: dict, key: str):
    from tts.api.views import _date as parse

    return parse(errors, body, key, key)


def _merged(errors: ErrorCollector, service, *args, **kwargs):
    """Run the service after the body's own checks, answering every problem at once (422)."""
    try:
        result = service(*args, **kwargs)
    except ValidationFailed as exc:
        if exc.http_status == 422:
            for field, messages in exc.errors.items():
                if field not in errors:
                    errors.errors[field] = messages
        errors.raise_if_any()
        raise
    errors.raise_if_any()
    return result


@bp.post("/settings")
@operation("createSetting", "Add a setting to the register (409 with existing_setting_id for the same name and "
           "postcode)", ok="201", schema=SETTING, body="SettingIn", answers=("409",))
@api_require("setting.create")
@idempotent
def create_setting_endpoint():
    errors = ErrorCollector()
    body = _body("SettingIn", errors)
    data = SettingData(**{k: body.get(k) for k in SettingData.__dataclass_fields__
                          if k != "size" and isinstance(body.get(k), str)},
                       size=body.get("size") if isinstance(body.get("size"), int) else None)
    setting = _merged(errors, create_setting, g.api_user, data)
    return answer(setting_json(setting), 201, f"/api/v1/settings/{setting.id}")


@bp.get("/settings")
@operation("listSettings", "Find settings: q is part of the name, a postcode or a postcode district",
           schema={"type": "array", "items": SETTING},
           query={"q": {"type": "string", "maxLength": 100},
                  "kind": {"type": "string", "enum": list(SettingKind.labels())}})
@api_require("setting.view")
def list_settings():
    kind = request.args.get("kind")
    if kind is not None and kind not in SettingKind.labels():
        raise ValidationFailed({"kind": ["Must be one of: " + ", ".join(SettingKind.labels())]})
    found = search_settings((request.args.get("q") or "")[:100] or None, kind)
    live = services.live_outbreaks_at([s.id for s in found])
    return jsonify([setting_json(s, live.get(s.id)) for s in found])


@bp.get("/settings/<id:setting_id>")
@operation("getSetting", "A setting in the register", schema=SETTING)
@api_require("setting.view", record="role")
def get_setting(setting_id: int):
    setting = db.session.get(Setting, setting_id) or abort(404)
    return jsonify(setting_json(setting, services.live_outbreak(setting.id)))


@bp.post("/cases/<id:case_id>/settings")
@operation("linkCaseSetting", "Record a setting the case attended (the cluster rule runs: outbreak_id is the "
           "outbreak the case is now in, if any)", ok="201", schema=SETTING_LINK, body="CaseSettingIn")
@api_require("case.create", record="own_case")
@idempotent
def link_case_setting(case_id: int):
    return _link(case=case_or_403(g.api_user, case_id))


@bp.post("/contacts/<id:contact_id>/settings")
@operation("linkContactSetting", "Record a setting the contact attends (theirs as a case too if they become one)",
           ok="201", schema=SETTING_LINK, body="CaseSettingIn")
@api_require("case.create", record="own_contact")
@idempotent
def link_contact_setting(contact_id: int):
    return _link(contact=contact_or_403(g.api_user, contact_id))


def _link(**subject):
    errors = ErrorCollector()
    body = _body("CaseSettingIn", errors)
    setting = db.session.get(Setting, body["setting_id"]) if isinstance(body.get("setting_id"), int) else None
    if setting is None and "setting_id" not in errors:
        errors.add("setting_id", "No setting in the register has this id")
    last = _date(errors, body, "last_attended")
    found: SettingLink = _merged(errors, services.link, g.api_user, setting, last_attended=last, source="api",
                                 **subject)
    case = subject.get("case")
    live = services.live_outbreak(setting.id)
    in_it = case is not None and live is not None and case.id in services.case_ids(live)
    return answer({"id": found.id, "setting_id": setting.id, "case_id": found.case_id, "contact_id": found.contact_id,
                   "last_attended": _d(found.last_attended), "outbreak_id": live.id if in_it else None}, 201)


@bp.get("/outbreaks")
@operation("listOutbreaks", "Outbreaks, newest first (status: open, monitoring or closed; default all)",
           schema={"type": "array", "items": OUTBREAK},
           query={"status": {"type": "string", "enum": list(OutbreakStatus.labels())}})
@api_require("outbreak.manage")
def list_outbreaks():
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    status = request.args.get("status")
    query = select(Outbreak).options(selectinload(Outbreak.members)).order_by(Outbreak.opened_at.desc(),
                                                                              Outbreak.id.desc())
    if status is not None:
        if status not in OutbreakStatus.labels():
            raise ValidationFailed({"status": ["Must be one of: " + ", ".join(OutbreakStatus.labels())]})
        query = query.where(Outbreak.status == status)
    return jsonify([outbreak_json(o) for o in db.session.scalars(query.limit(1000))])


@bp.get("/outbreaks/work")
@operation("outbreakWork", "Supervisors' outbreak work: steps not done yet in live outbreaks, care homes' calls to "
           "the setting first (band 1), then by due date", schema={"type": "array", "items": ACTION})
@api_require("outbreak.manage")
def outbreak_work():
    return jsonify([action_json(a) | {"outbreak_id": a.outbreak_id, "setting_id": a.outbreak.setting_id,
                                      "setting_kind": a.outbreak.setting.kind}
                    for a in services.waiting_actions(200)])


@bp.post("/outbreaks")
@operation("openOutbreak", "Open an outbreak at a setting by hand (409 with existing_outbreak_id if it has a live "
           "one)", ok="201", schema=OUTBREAK, body="OutbreakIn", answers=("409",))
@api_require("outbreak.manage")
@idempotent
def open_outbreak_endpoint():
    errors = ErrorCollector()
    body = _body("OutbreakIn", errors)
    setting = db.session.get(Setting, body["setting_id"]) if isinstance(body.get("setting_id"), int) else None
    if setting is None and "setting_id" not in errors:
        errors.add("setting_id", "No setting in the register has this id")
    errors.raise_if_any()
    outbreak = services.open_outbreak(g.api_user, setting, reason=body.get("reason"),
                                      case_ids=body.get("case_ids") or [])
    return answer(outbreak_json(outbreak, full=True), 201, f"/api/v1/outbreaks/{outbreak.id}")


def _outbreak(outbreak_id: int) -> Outbreak:
    return db.session.get(Outbreak, outbreak_id) or abort(404)


@bp.get("/outbreaks/<id:outbreak_id>")
@operation("getOutbreak", "An outbreak with its chain (who caught it from whom among its cases), actions, contacts "
           "and epidemic curve (audited)", schema=OUTBREAK)
@api_require("outbreak.manage", record="role")
def get_outbreak(outbreak_id: int):
    outbreak = _outbreak(outbreak_id)
    data = outbreak_json(outbreak, full=True)
    record_event(g.api_user, "outbreak.view", outbreak, {"case_ids": data["case_ids"]})
    return jsonify(data)


@bp.post("/outbreaks/<id:outbreak_id>/actions")
@operation("addOutbreakAction", "Record an action (done, or to do by due_date)", ok="201", schema=ACTION,
           body="OutbreakActionIn")
@api_require("outbreak.manage", record="role")
@idempotent
def add_outbreak_action(outbreak_id: int):
    outbreak = _outbreak(outbreak_id)
    errors = ErrorCollector()
    body = _body("OutbreakActionIn", errors)
    due = _date(errors, body, "due_date")
    action = _merged(errors, services.add_action, g.api_user, outbreak, kind=body.get("kind"),
                     notes=body.get("notes") if isinstance(body.get("notes"), str) else None, due_date=due,
                     done=body.get("done") if isinstance(body.get("done"), bool) else None)
    return answer(action_json(action), 201)


@bp.patch("/outbreaks/<id:outbreak_id>")
@operation("updateOutbreak", "Change an outbreak's status (open, monitoring, closed), with the reason",
           schema=OUTBREAK, body="OutbreakPatch", answers=("409",))
@api_require("outbreak.manage", record="role")
def update_outbreak(outbreak_id: int):
    outbreak = _outbreak(outbreak_id)
    errors = ErrorCollector()
    body = _body("OutbreakPatch", errors)
    _merged(errors, services.change_status, g.api_user, outbreak, status=body.get("status"),
            reason=body.get("reason") if isinstance(body.get("reason"), str) else None)
    return jsonify(outbreak_json(outbreak, full=True))
