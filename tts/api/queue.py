"""API v1 for the call queue: claim, release, record attempts, list escalations."""
from datetime import datetime

from flask import abort, g, jsonify, request
from sqlalchemy import select

from tts.input_guard import record_id
from tts.api import bp
from tts.api.auth import api_require
from tts.api.idempotency import answer, idempotent
from tts.api.schemas import check_body
from tts.people.access import work_item_or_403
from tts.api.serializers import attempt_json, escalation_json, work_item_json
from tts.callqueue.models import WorkItem
from tts.callqueue.outcomes import record_attempt, record_call
from tts.callqueue.services import calling_resumes_at, claim_item, claim_next, release_item
from tts.errors import ErrorCollector
from tts.escalation.services import filtered_escalations
from tts.extensions import db
from tts.api.openapi import CLAIM, operation, ref


def _claim_body(claim) -> dict:
    # Written before the commit, from the objects as the claim left them: after it, every attribute read
    # would reload its row.
    return {"work_item": work_item_json(claim.item), "also_claimed": [work_item_json(i) for i in claim.also_claimed]}


@bp.post("/queue/claim")
@operation("claimNext", "Claim the next due call", schema=CLAIM, answers=("204",), links={
    "recordAttempt": {"item_id": "$response.body#/work_item/id"},
    "releaseItem": {"item_id": "$response.body#/work_item/id"}})
@api_require("queue.work")
def queue_claim():
    claim = claim_next(g.api_user)
    body = _claim_body(claim) if claim is not None else None
    if body is None:
        response = jsonify()
        response.status_code = 204
        resumes = calling_resumes_at()
        if resumes is not None:
            response.headers["X-Calling-Resumes-At"] = resumes.isoformat()
        return response
    return jsonify(body)


def _item(item_id: int) -> WorkItem:
    return db.session.get(WorkItem, item_id) or abort(404)


@bp.post("/work-items/<id:item_id>/claim")
@operation("claimItem", "Claim one item", schema=CLAIM, answers=("409",))
@api_require("queue.work", record="work_item")
def work_item_claim(item_id: int):
    claim = claim_item(g.api_user, work_item_or_403(g.api_user, item_id))  # ClaimConflict: 409
    return jsonify(_claim_body(claim))


@bp.post("/work-items/<id:item_id>/release")
@operation("releaseItem", "Give a claim back", schema={"type": "object"}, answers=("409",))
@api_require("queue.work", record="work_item")
def work_item_release(item_id: int):
    body = request.get_json(silent=True) or {}
    item = release_item(g.api_user, _item(item_id), body.get("claim_token"))  # NotClaimHolder: 409
    return jsonify({"work_item": work_item_json(item)})


def _callback_at(body: dict, errors: ErrorCollector) -> datetime | None:
    if not body.get("callback_at"):
        return None
    try:
        callback_at = datetime.fromisoformat(str(body["callback_at"]).replace("Z", "+00:00"))
        if callback_at.tzinfo is None:
            raise ValueError
    except ValueError:
        errors.add("callback_at", "Use an ISO 8601 date and time with a time zone, like 2026-11-23T14:30:00+00:00")
        return None
    return callback_at


def _attempt_body(result) -> dict:
    data = {"attempt": attempt_json(result.attempt),
            "work_item": {"id": result.item.id, "status": result.item.status,
                          "due_at": result.item.due_at.isoformat(), "attempts": result.item.attempts}}
    if result.new_item is not None:
        data["callback_item"] = work_item_json(result.new_item)
    if result.escalation is not None:
        data["escalation"] = escalation_json(result.escalation)
    return data


@bp.post("/work-items/<id:item_id>/attempts")
@operation("recordAttempt", "Record a call outcome", ok="201", schema={"type": "object"}, body="AttemptIn",
           answers=("409",))
@api_require("queue.work", record="work_item")
@idempotent
def work_item_attempt(item_id: int):
    errors = ErrorCollector()
    body = check_body("AttemptIn", request.get_json(silent=True), errors)
    callback_at = _callback_at(body, errors)
    errors.raise_if_any()
    # By id: the service's locking read is the item's only one (WorkItemNotFound: 404; NotClaimHolder: 409).
    result = record_attempt(g.api_user, item_id, outcome=body.get("outcome"), notes=body.get("notes"),
                            callback_at=callback_at, language=body.get("language"),
                            claim_token=body.get("claim_token"))
    return answer(_attempt_body(result), 201)  # the answer is built first: the objects need no reload


@bp.post("/calls/attempts")
@operation("recordCall", "Record one outcome for everyone claimed onto a call (all or nothing)", ok="201",
           schema={"type": "object", "properties": {"attempts": {"type": "array", "items": {"type": "object"}}}},
           body="CallAttemptIn", answers=("409",))
@api_require("queue.work")
@idempotent
def call_attempt():
    """One outcome for everyone the tracer claimed onto one call (a claim's work_item and also_claimed)."""
    errors = ErrorCollector()
    body = check_body("CallAttemptIn", request.get_json(silent=True), errors)
    callback_at = _callback_at(body, errors)
    entries = body.get("items") if isinstance(body.get("items"), list) else []
    wanted = [e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), int)]
    found = {i.id: i for i in db.session.scalars(select(WorkItem).where(WorkItem.id.in_(wanted)))} if wanted else {}
    held = []
    for n, entry in enumerate(entries):
        if isinstance(entry, dict) and isinstance(entry.get("id"), int) and f"items.{n}.id" not in errors:
            if entry["id"] in found:
                held.append((found[entry["id"]], entry.get("claim_token")))
            else:
                errors.add(f"items.{n}.id", "There is no work item with this id")
    errors.raise_if_any()
    results = record_call(g.api_user, held, outcome=body.get("outcome"), notes=body.get("notes"),
                          callback_at=callback_at, language=body.get("language"))  # NotClaimHolder: 409
    return answer({"attempts": [_attempt_body(r) for r in results]}, 201)


@bp.get("/escalations")
@operation("listEscalations", "Escalations",
           schema={"type": "array", "items": ref("Escalation")},
           query={name: {"type": "string"} for name in ("status", "reason", "district", "assignee_id")})
@api_require("escalation.view")
def escalations():
    stmt = filtered_escalations(status=request.args.get("status") or None, reason=request.args.get("reason") or None,
                                assignee_id=request.args.get("assignee_id", type=record_id),
                                district=request.args.get("district") or None)
    return jsonify([escalation_json(e) for e in db.session.scalars(stmt.limit(1000))])
