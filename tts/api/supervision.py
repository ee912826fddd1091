"""API v1 for supervisors and the local team: reassignment, doorstep visits, support needs."""
from flask import abort, g, jsonify, request

from tts.api import bp
from tts.api.auth import api_require
from tts.api.idempotency import answer, idempotent
from tts.api.schemas import check_body
from tts.api.serializers import _d, checkin_json, escalation_json, person_json, support_need_json
from tts.audit.services import record_list_view
from tts.errors import DomainError, ErrorCollector
from tts.escalation.models import Escalation
from tts.escalation.services import record_visit
from tts.extensions import db
from tts.people.access import may_record_visit, person_or_403
from tts.selfservice.checkins import non_responders
from tts.supervision.services import load_assignee, reassign_items
from tts.support.models import SupportNeed
from tts.support.services import create_support_need, update_support_need
from tts.api.openapi import operation


def _body(schema: str) -> dict:
    """The JSON body, checked against its request schema (422 naming each bad field)."""
    errors = ErrorCollector()
    body = check_body(schema, request.get_json(silent=True), errors)
    errors.raise_if_any()
    return body


def is_record_id(value) -> bool:
    """A positive integer that fits the database's integer columns (bools are not ids)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**31 - 1


@bp.post("/work-items/reassign")
@operation("reassignItems", "Reassign items (supervisors)", schema={"type": "object"}, body="ReassignIn")
@api_require("supervise")
def reassign():
    body = _body("ReassignIn")
    errors = ErrorCollector()
    ids = body.get("work_item_ids")
    if not isinstance(ids, list) or not all(is_record_id(i) for i in ids):
        errors.add("work_item_ids", "Give a list of work item ids")
    assignee_id = body.get("assignee_id")
    if assignee_id is not None and not is_record_id(assignee_id):
        errors.add("assignee_id", "Give a user id, or null for the shared queue")
    errors.raise_if_any()
    try:
        assignee = load_assignee(assignee_id)
    except DomainError as exc:
        errors.add("assignee_id", str(exc))
        errors.raise_if_any()
    changed, skipped = reassign_items(g.api_user, ids, assignee)
    return jsonify({"reassigned": [i.id for i in changed], "skipped": skipped,
                    "assignee_id": assignee.id if assignee else None})


@bp.post("/escalations/<id:escalation_id>/visits")
@operation("recordVisit", "Record a doorstep visit", ok="201", schema={"type": "object"}, body="VisitIn")
@api_require(record="visit", note="escalation.view, or the field officer the visit is assigned to")
def visit(escalation_id: int):
    escalation = db.session.get(Escalation, escalation_id) or abort(404)
    user = g.api_user
    if not may_record_visit(user, escalation):
        return jsonify({"error": "Only a supervisor or the assigned field officer may record this visit"}), 403
    body = _body("VisitIn")
    visit = record_visit(user, escalation, outcome=body.get("outcome"), notes=body.get("notes"))
    return jsonify({"visit": {"id": visit.id, "outcome": visit.outcome, "notes": visit.notes,
                              "officer_id": visit.officer_id, "created_at": _d(visit.created_at)},
                    "escalation": escalation_json(escalation)}), 201


@bp.post("/people/<id:person_id>/support-needs")
@operation("createSupportNeed", "Log a support need", ok="201", schema={"type": "object"}, body="SupportIn")
@api_require("support.create", record="own_person")
@idempotent
def create_support(person_id: int):
    person = person_or_403(g.api_user, person_id)
    body = _body("SupportIn")
    need = create_support_need(g.api_user, person, kind=body.get("kind"), urgency=body.get("urgency") or "routine",
                               notes=body.get("notes"))
    return answer(support_need_json(need), 201)


@bp.patch("/support-needs/<id:need_id>")
@operation("updateSupportNeed", "Move a support need on (supervisors)", schema={"type": "object"},
           body="SupportPatch")
@api_require("support.manage", record="role")
def update_support(need_id: int):
    need = db.session.get(SupportNeed, need_id) or abort(404)
    body = _body("SupportPatch")
    update_support_need(g.api_user, need, status=body.get("status", need.status), referred_to=body.get("referred_to"),
                        notes=body.get("notes"), notify=bool(body.get("notify")))
    return jsonify(support_need_json(need))


@bp.get("/checkins/non-responders")
@operation("listNonResponders", "People who did not reply to their latest check-in within 24 hours (supervisors): "
           "each with that check-in and how many they have missed", schema={"type": "array", "items": {"type": "object"}})
@api_require("supervise", note="supervisors see everyone")
def non_responders_endpoint():
    rows = non_responders()
    record_list_view(g.api_user, "api.checkins.non_responders", [c.person_id for c, _ in rows])
    return jsonify([person_json(checkin.person) | {"person_id": checkin.person_id, "missed_checkins": missed,
                                                   "last_checkin": checkin_json(checkin)}
                    for checkin, missed in rows])
