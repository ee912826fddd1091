"""The OpenAPI 3.1 description of /api/v1, generated from the app's own routes.

Every /api/v1 route is described from what the app holds: its path and methods (the URL map), its path
parameters (their converters: a record id is an integer from 1 to 2**31 - 1), who may call it (its
`api_require` declaration), whether it takes an Idempotency-Key (`@idempotent`), its request body (the
schema `check_body` validates it with, tts/api/schemas.py), and what its view declares with `@operation`
(the summary, query parameters, the answers it gives, links to the operations that can follow). Served at
/api/v1/openapi.json and rendered at /api/docs. tests/api/test_openapi.py fails when a route is not
described or a described operation is served by no route; the schemathesis tests call every operation.

Written as a small generator rather than with apispec or flask-smorest: the request schemas are already
JSON Schema (validated with jsonschema), and the views are plain Flask views with their own guards; those
libraries want marshmallow or pydantic schemas and views rewritten around them, for the same document.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app, jsonify, render_template

from tts.api import bp
from tts.api.schemas import COMPONENTS, DATE, NULLABLE_DATE
from tts.permissions import declared, public

PREFIX = "/api/v1"

DATETIME = {"type": "string", "format": "date-time"}
ERRORS = {"type": "object", "properties": {"errors": {"type": "object", "additionalProperties": {
    "type": "array", "items": {"type": "string"}}}}, "required": ["errors"]}
ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}

PERSON = {"type": "object", "properties": {
    "id": {"type": "integer"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
    "date_of_birth": NULLABLE_DATE, "phone": {"type": ["string", "null"]}, "email": {"type": ["string", "null"]},
    "address": {"type": ["string", "null"]}, "postcode": {"type": ["string", "null"]},
    "household_id": {"type": ["integer", "null"]}, "sms_opt_out": {"type": "boolean"},
    "language": {"type": ["string", "null"], "description": "ISO 639-1 code: texts go in it where translated"}},
    "required": ["id", "first_name", "last_name", "phone", "postcode", "sms_opt_out"]}
CONTACT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "case_id": {"type": "integer"}, "person_id": {"type": "integer"},
    "relationship": {"type": "string", "enum": ["household", "close", "setting"]},
    "last_exposure_date": DATE, "quarantine_end_date": DATE, "household_id": {"type": ["integer", "null"]},
    "status": {"type": "string", "enum": ["open", "reached", "completed", "became_case", "closed"]},
    "closure_reason": {"type": ["string", "null"]}, "closed_at": {"type": ["string", "null"]},
    "became_case_id": {"type": ["integer", "null"]},
    "source": {"type": "string", "enum": ["staff", "self_service", "import"]},
    "reached_by": {"type": ["string", "null"], "enum": ["call", "text", "visit", None]}},
    "required": ["id", "person_id", "relationship", "quarantine_end_date", "household_id", "source", "reached_by"]}
CASE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "reference": {"type": "string"},
    "status": {"type": "string", "enum": ["open", "isolating", "completed", "closed"]},
    "closure_reason": {"type": ["string", "null"]}, "closed_at": {"type": ["string", "null"]},
    "exposed_by_case_id": {"type": ["integer", "null"]},
    "self_service": {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["not_started", "started", "completed", "expired", "locked"]},
        "completed_at": {"type": ["string", "null"], "format": "date-time"}}, "required": ["status", "completed_at"]},
    "source": {"type": "string"}, "test_date": DATE, "symptom_onset_date": NULLABLE_DATE,
    "isolation_end_date": DATE, "person": {"$ref": "#/components/schemas/Person"},
    "contacts": {"type": "array", "items": {"$ref": "#/components/schemas/Contact"}}},
    "required": ["id", "reference", "status", "isolation_end_date", "person"]}
WORK_ITEM = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "subject_type": {"type": "string", "enum": ["case", "contact"]},
    "subject_id": {"type": "integer"}, "person": {"$ref": "#/components/schemas/Person"},
    "priority": {"type": "integer"}, "due_at": DATETIME, "claimed_until": {"type": ["string", "null"]},
    "attempts": {"type": "integer"}}, "required": ["id", "kind", "subject_type", "subject_id", "person", "priority",
                                                   "due_at", "claimed_until", "attempts"]}
ESCALATION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "person_id": {"type": "integer"}, "reason": {"type": "string"},
    "status": {"type": "string"}, "created_at": DATETIME}, "required": ["id", "person_id", "reason", "status", "created_at"]}
KPI_GROUP = {"type": "object", "properties": {
    "total": {"type": "integer"}, "reached": {"type": "integer"}, "reached_pct": {"type": ["number", "null"]},
    "reached_within_24h_pct": {"type": ["number", "null"]}, "median_hours_to_reach": {"type": ["number", "null"]},
    "reached_by_text": {"type": "integer"}, "reached_by_text_pct": {"type": ["number", "null"]},
    "reached_any_pct": {"type": ["number", "null"]}, "reached_any_within_24h_pct": {"type": ["number", "null"]}},
    "required": ["total", "reached", "reached_pct", "reached_within_24h_pct", "median_hours_to_reach"]}
EXPORT_JOB = {"type": "object", "properties": {
    "job_id": {"type": "integer"}, "dataset": {"type": "string"}, "format": {"type": "string"},
    "from": DATE, "to": DATE, "identifiable": {"type": "boolean"},
    "status": {"type": "string", "enum": ["pending", "running", "done", "failed", "expired"]},
    "rows_total": {"type": "integer"}, "rows_done": {"type": "integer"}, "percent": {"type": "integer"},
    "created_at": DATETIME, "finished_at": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
    "status_url": {"type": "string"}, "download_url": {"type": ["string", "null"]},
    "expires_at": {"type": ["string", "null"]}},
    "required": ["job_id", "dataset", "format", "status", "rows_total", "rows_done", "percent", "status_url",
                 "download_url"]}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "Any unique string (a UUID). The same key from the same token within 24 hours gets the first "
                   "answer again (with the header Idempotent-Replayed: true) and writes nothing new, even when the "
                   "first answer was lost; a different request under a used key is 422. Send one with every "
                   "creating request, and the same one when you retry it."}
IMPORT_BATCH = {"type": "object", "properties": {
    "batch_id": {"type": "integer"}, "status": {"type": "string", "enum": [
        "pending", "running", "completed", "rejected", "failed"]},
    "rows_total": {"type": ["integer", "null"]}, "rows_imported": {"type": ["integer", "null"]},
    "duplicates": {"type": ["integer", "null"]}, "matched_existing_cases": {"type": "array", "items": {
        "type": "object", "properties": {"row": {"type": "integer"}, "referral_id": {"type": "string"},
                                         "case_id": {"type": ["integer", "null"]},
                                         "case_reference": {"type": ["string", "null"]}}}},
    "errors": {"type": "array", "items": {"type": "object", "properties": {
        "row": {"type": "integer"}, "column": {"type": "string"}, "message": {"type": "string"}}}}},
    "required": ["batch_id", "status", "errors"]}
CASE_PAGE = {"type": "object", "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}, "total": {"type": "integer"},
    "page": {"type": "integer"}, "per_page": {"type": "integer"}, "pages": {"type": "integer"},
    "total_is_capped": {"type": "boolean", "description": "More than 500 match: total is 500, and pages "
                        "stop there (narrow the search, or export)"},
    "matched_by": {"type": "array", "items": {"type": "string", "enum": ["reference", "phone", "postcode", "name"]}}},
    "required": ["items", "total", "page", "per_page"]}
NOTE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "person_id": {"type": "integer"}, "case_id": {"type": ["integer", "null"]},
    "text": {"type": "string"}, "author_id": {"type": ["integer", "null"]}, "created_at": DATETIME},
    "required": ["id", "person_id", "case_id", "text", "created_at"]}
DUPLICATE_PAIR = {"type": "object", "properties": {
    "people": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
    "reasons": {"type": "array", "items": {"type": "string", "enum": [
        "same_name_and_date_of_birth", "same_phone_and_date_of_birth", "same_email"]}}},
    "required": ["people", "reasons"]}


RESPONSE_SCHEMAS = {"Note": NOTE, "DuplicatePair": DUPLICATE_PAIR, "Person": PERSON, "Contact": CONTACT, "Case": CASE, "CasePage": CASE_PAGE, "WorkItem": WORK_ITEM,
                    "Escalation": ESCALATION, "KpiGroup": KPI_GROUP, "ExportJob": EXPORT_JOB, "ImportBatch": IMPORT_BATCH}
DESCRIPTIONS = {"200": "OK", "201": "Created", "202": "Accepted: the job to poll (Location header)",
                "204": "Nothing to hand out", "404": "Not found", "409": "Conflict with the record as it stands",
                "410": "Gone: the file was deleted, or the person merged into another (merged_into)", "422": "Field errors, every one at once"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


CLAIM = {"type": "object", "properties": {"work_item": ref("WorkItem"), "also_claimed": {
    "type": "array", "items": ref("WorkItem")}}, "required": ["work_item", "also_claimed"]}
KPIS = {"type": "object", "properties": {
    name: ref("KpiGroup") for name in ("cases", "contacts", "household_contacts", "non_household_contacts")}
    | {"escalations": {"type": "object", "properties": {"opened": {"type": "integer"}, "resolved": {"type": "integer"}}}},
    "required": ["cases", "contacts", "household_contacts", "non_household_contacts", "escalations"]}


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    ok: str = "200"
    schema: dict | None = None  # the answer's body
    media: tuple[str, ...] = ("application/json",)  # the answer's types (a file: text/csv, a spreadsheet)
    body: str | dict | None = None  # the request body: a tts/api/schemas.py name (check_body), or a schema
    query: dict[str, dict] = field(default_factory=dict)  # name -> schema (a name ending in * is required)
    answers: tuple[str, ...] = ()  # other answers it gives besides the standard ones
    path_enums: dict[str, list] = field(default_factory=dict)
    links: dict[str, dict] = field(default_factory=dict)  # operationId -> {parameter: runtime expression}
    describes_itself: bool = False  # the description itself: no token


def operation(operation_id: str, summary: str, **details) -> Callable:
    """Route decorator (right under the route): what the generated description says of this operation."""

    def declare(view: Callable) -> Callable:
        view.openapi = Operation(operation_id, summary, **details)
        return view

    return declare


def _json(schema: dict, media: tuple[str, ...] = ("application/json",)) -> dict:
    return {"content": {m: {"schema": schema} for m in media}}


ERROR_JSON = _json(ERROR)
STANDARD = {
    "400": {"description": "Unusable input: not valid JSON, nested too deeply, or text holding a NUL character "
                           "or an unpaired surrogate (never stored)", **ERROR_JSON},
    "401": {"description": "No valid bearer token", **ERROR_JSON},
    "403": {"description": "The token's role may not do this, or this record is not on the token's user's "
                           "work (the same record rule as the web page)", **ERROR_JSON},
    "503": {"description": "The database is briefly unavailable: try again (with the same Idempotency-Key "
                           "for a creating operation)", **ERROR_JSON},
}


def _path(rule) -> tuple[str, list[dict]]:
    """The OpenAPI path of a Werkzeug rule, and its path parameters from the rule's converters."""
    parameters = []
    for name, converter in rule._converters.items():
        if type(converter).__name__ == "IdConverter":
            schema = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
        else:
            schema = {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule).removeprefix(PREFIX), parameters


def _describe(rule, method: str, view) -> dict:
    op: Operation = view.openapi
    path, parameters = _path(rule)
    for parameter in parameters:
        if parameter["name"] in op.path_enums:
            parameter["schema"] = {"type": "string", "enum": list(op.path_enums[parameter["name"]])}
    for name, schema in op.query.items():
        parameters.append({"name": name.rstrip("*"), "in": "query", "required": name.endswith("*"), "schema": schema})
    if getattr(view, "idempotent", False):
        parameters.append(IDEMPOTENCY_KEY)
    responses = {op.ok: {"description": DESCRIPTIONS.get(op.ok, "OK"),
                         **(_json(op.schema, op.media) if op.schema is not None else {})}}
    answers = set(op.answers) | ({"422"} if op.body is not None or op.query else set())
    if any(p["in"] == "path" and p["schema"].get("type") == "integer" for p in parameters):
        answers.add("404")
    for code in sorted(answers - {op.ok}):
        responses[code] = {"description": DESCRIPTIONS[code],
                           **(_json(ERRORS) if code == "422" else ERROR_JSON if code != "204" else {})}
    if op.links:
        responses[op.ok]["links"] = {f"to_{target}": {"operationId": target, "parameters": params}
                                     for target, params in op.links.items()}
    described = {"operationId": op.operation_id, "summary": op.summary, "parameters": parameters,
                 "responses": responses}
    if op.describes_itself:
        described["security"] = []
        responses["503"] = STANDARD["503"]
    else:
        responses.update({code: answer for code, answer in STANDARD.items() if code not in responses})
        access = declared(view)
        if access is not None and access.permissions:
            described["description"] = "Needs: " + ", ".join(access.permissions) + (
                f". {access.note[0].upper()}{access.note[1:]}." if access.note else ".")
    if isinstance(op.body, str):
        described["requestBody"] = {"required": True, **_json(ref(op.body))}
    elif op.body is not None:
        described["requestBody"] = {"required": True, "content": op.body}
    return path, described


def spec() -> dict:
    paths: dict[str, dict] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        view = current_app.view_functions[rule.endpoint]
        if getattr(view, "openapi", None) is None:
            continue  # not described: tests/api/test_openapi.py names it
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path, described = _describe(rule, method, view)
            paths.setdefault(path, {})[method.lower()] = described
    return {
        "openapi": "3.1.0",
        "info": {"title": "TTS API", "version": "1",
                 "description": "Test, trace and support: bearer-token JSON API for integrations. Personal data: "
                                "every read is audited."},
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {**COMPONENTS, **RESPONSE_SCHEMAS}},
        "paths": paths,
    }


@bp.get("/openapi.json", endpoint="openapi")
@operation("getDescription", "This description (OpenAPI 3.1)", schema={"type": "object"}, describes_itself=True)
@public
def openapi_json():
    return jsonify(spec())


def register_docs(app) -> None:
    from tts.permissions import require

    @app.route("/api/docs")
    @require()
    def api_docs():
        return render_template("api/docs.html", spec=spec())
