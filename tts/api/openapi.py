"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json and rendered as the API docs page."""
from flask import jsonify, render_template

from tts.api import bp
from tts.permissions import public

from tts.api.schemas import COMPONENTS, DATE, NULLABLE_DATE

DATETIME = {"type": "string", "format": "date-time"}
ERRORS = {"type": "object", "properties": {"errors": {"type": "object", "additionalProperties": {
    "type": "array", "items": {"type": "string"}}}}, "required": ["errors"]}
ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}

PERSON = {"type": "object", "properties": {
    "id": {"type": "integer"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
    "date_of_birth": NULLABLE_DATE, "phone": {"type": ["string", "null"]}, "email": {"type": ["string", "null"]},
    "address": {"type": ["string", "null"]}, "postcode": {"type": ["string", "null"]},
    "household_id": {"type": ["integer", "null"]}, "sms_opt_out": {"type": "boolean"}},
    "required": ["id", "first_name", "last_name", "phone", "postcode", "sms_opt_out"]}
CONTACT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "case_id": {"type": "integer"}, "person_id": {"type": "integer"},
    "relationship": {"type": "string", "enum": ["household", "close", "setting"]},
    "last_exposure_date": DATE, "quarantine_end_date": DATE, "household_id": {"type": ["integer", "null"]}},
    "required": ["id", "person_id", "relationship", "quarantine_end_date", "household_id"]}
CASE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "reference": {"type": "string"}, "status": {"type": "string"},
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
    "reached_within_24h_pct": {"type": ["number", "null"]}, "median_hours_to_reach": {"type": ["number", "null"]}},
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
EXPORT_JOB_IN = {"type": "object", "properties": {
    "dataset": {"type": "string", "enum": ["cases", "contacts", "attempts", "escalations", "support_needs"]},
    "format": {"type": "string", "enum": ["xlsx"]}, "from": DATE, "to": DATE, "identifiable": {"type": "boolean"}},
    "required": ["dataset"]}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(ok_code: str, ok_schema: dict | None, *extra: str) -> dict:
    out = {ok_code: {"description": "OK", **(_json(ok_schema) if ok_schema else {})},
           "401": {"description": "No valid bearer token", **_json(ERROR)},
           "403": {"description": "The token's role may not do this, or this record is not on the token's user's "
                           "work (the same record rule as the web page)", **_json(ERROR)},
           "400": {"description": "Unusable input: not valid JSON, nested too deeply, or text holding a NUL character "
                                  "or an unpaired surrogate (never stored)", **_json(ERROR)},
           "503": {"description": "The database is briefly unavailable: try again (with the same Idempotency-Key "
                                  "for a creating operation)", **_json(ERROR)}}
    for code in extra:
        out[code] = {"description": {"404": "Not found", "409": "Conflict: the claim is someone else's",
                                     "422": "Field errors", "204": "Nothing to hand out"}[code],
                     **(_json(ERRORS) if code == "422" else _json(ERROR) if code in ("404", "409") else {})}
    if ok_code == "202":
        out["202"]["description"] = "Accepted: the job to poll (Location header)"
    return out


def _linked(responses: dict, code: str, links: dict[str, dict]) -> dict:
    """OpenAPI links: which operation can follow this answer, with which of its values (clients, and the
    suite's stateful schemathesis run, follow them)."""
    responses[code]["links"] = {f"to_{op}": {"operationId": op, "parameters": params} for op, params in links.items()}
    return responses


def _id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}


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
    "duplicates": {"type": ["integer", "null"]}, "errors": {"type": "array", "items": {"type": "object", "properties": {
        "row": {"type": "integer"}, "column": {"type": "string"}, "message": {"type": "string"}}}}},
    "required": ["batch_id", "status", "errors"]}


def creating(operation: dict) -> dict:
    """A creating operation: it takes an Idempotency-Key."""
    operation["parameters"] = [*operation.get("parameters", []), IDEMPOTENCY_KEY]
    return operation


def body(name: str) -> dict:
    return {"required": True, **_json({"$ref": f"#/components/schemas/{name}"})}


def spec() -> dict:
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    paths = {
        "/cases": {"post": creating({"operationId": "createCase", "summary": "Log a case",
                                     "requestBody": body("CaseIn"),
                                     "responses": _linked(_responses("201", ref("Case"), "422"), "201", {
                                         "getCase": {"case_id": "$response.body#/id"},
                                         "createContact": {"case_id": "$response.body#/id"},
                                         "getPerson": {"person_id": "$response.body#/person/id"},
                                         "createSupportNeed": {"person_id": "$response.body#/person/id"}})})},
        "/cases/{case_id}": {"get": {"operationId": "getCase", "summary": "A case with its contacts (audited)",
                                     "parameters": [_id("case_id")],
                                     "responses": _responses("200", ref("Case"), "404")}},
        "/cases/{case_id}/contacts": {"post": creating({
            "operationId": "createContact", "summary": "Add a contact", "parameters": [_id("case_id")], "requestBody": body("ContactIn"),
            "responses": _responses("201", ref("Contact"), "404", "422")})},
        "/people/{person_id}": {"get": {"operationId": "getPerson",
                                        "summary": "A person with their cases and contact records (audited)",
                                        "parameters": [_id("person_id")], "responses": _responses("200", ref("Person"), "404")}},
        "/people/{person_id}/messages": {"get": {"summary": "A person's texts", "parameters": [_id("person_id")],
                                                 "responses": _responses("200", {"type": "array", "items": {"type": "object"}}, "404")}},
        "/queue/claim": {"post": {"operationId": "claimNext", "summary": "Claim the next due call",
                                  "responses": _linked(_responses("200", {
            "type": "object", "properties": {"work_item": ref("WorkItem"), "also_claimed": {
                "type": "array", "items": ref("WorkItem")}}, "required": ["work_item", "also_claimed"]}, "204"), "200", {
                "recordAttempt": {"item_id": "$response.body#/work_item/id"},
                "releaseItem": {"item_id": "$response.body#/work_item/id"}})}},
        "/work-items/{item_id}/claim": {"post": {"summary": "Claim one item", "parameters": [_id("item_id")],
                                                  "responses": _responses("200", {"type": "object"}, "404", "409")}},
        "/work-items/{item_id}/release": {"post": {"operationId": "releaseItem", "summary": "Give a claim back", "parameters": [_id("item_id")],
                                                    "responses": _responses("200", {"type": "object"}, "404", "409")}},
        "/work-items/{item_id}/attempts": {"post": creating({
            "operationId": "recordAttempt", "summary": "Record a call outcome", "parameters": [_id("item_id")], "requestBody": body("AttemptIn"),
            "responses": _responses("201", {"type": "object"}, "404", "409", "422")})},
        "/calls/attempts": {"post": creating({
            "summary": "Record one outcome for everyone claimed onto a call (all or nothing)",
            "requestBody": body("CallAttemptIn"),
            "responses": _responses("201", {"type": "object", "properties": {"attempts": {
                "type": "array", "items": {"type": "object"}}}}, "409", "422")})},
        "/work-items/reassign": {"post": {
            "summary": "Reassign items (supervisors)", "requestBody": body("ReassignIn"),
            "responses": _responses("200", {"type": "object"}, "422")}},
        "/escalations/{escalation_id}/visits": {"post": {
            "summary": "Record a doorstep visit", "parameters": [_id("escalation_id")], "requestBody": body("VisitIn"),
            "responses": _responses("201", {"type": "object"}, "404", "422")}},
        "/people/{person_id}/support-needs": {"post": creating({
            "operationId": "createSupportNeed", "summary": "Log a support need", "parameters": [_id("person_id")], "requestBody": body("SupportIn"),
            "responses": _responses("201", {"type": "object"}, "404", "422")})},
        "/imports": {"post": creating({
            "summary": "Import a national-referral CSV file (small files at once, large ones in the background); "
                       "a file with any bad row is rejected whole, every problem listed",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"]}}}},
            "responses": _responses("201", IMPORT_BATCH, "422")})},
        "/imports/{batch_id}": {"get": {"summary": "An import's progress and problems",
                                        "parameters": [_id("batch_id")],
                                        "responses": _responses("200", IMPORT_BATCH, "404")}},
        "/support-needs/{need_id}": {"patch": {
            "summary": "Move a support need on (supervisors)", "parameters": [_id("need_id")],
            "requestBody": body("SupportPatch"), "responses": _responses("200", {"type": "object"}, "404", "422")}},
        "/escalations": {"get": {"summary": "Escalations", "parameters": [
            {"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in ("status", "reason", "district")],
            "responses": _responses("200", {"type": "array", "items": ref("Escalation")})}},
        "/exports/jobs": {"post": {
            "summary": "Build a spreadsheet export in the background (GET /exports/{dataset}.xlsx answers the same "
                       "202 when the range is too large to build at once); the same request again returns the same job",
            "requestBody": {"required": True, **_json(EXPORT_JOB_IN)},
            "responses": _responses("202", EXPORT_JOB, "422")}},
        "/exports/jobs/{job_id}": {"get": {
            "summary": "An export job's progress; download_url once done (only the requester's jobs)",
            "parameters": [_id("job_id")], "responses": _responses("200", EXPORT_JOB, "404")},
            "delete": {"summary": "Delete the job's file now (the job stays, marked expired); 409 while it is built",
                       "parameters": [_id("job_id")], "responses": _responses("200", EXPORT_JOB, "404", "409")}},
        "/reports/kpis": {"get": {"summary": "KPIs for a date range", "parameters": [
            {"name": "from", "in": "query", "required": True, "schema": DATE},
            {"name": "to", "in": "query", "required": True, "schema": DATE}],
            "responses": _responses("200", {"type": "object", "properties": {
                name: ref("KpiGroup") for name in ("cases", "contacts", "household_contacts", "non_household_contacts")}
                | {"escalations": {"type": "object", "properties": {"opened": {"type": "integer"},
                                                                    "resolved": {"type": "integer"}}}},
                "required": ["cases", "contacts", "household_contacts", "non_household_contacts", "escalations"]}, "422")}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "TTS API", "version": "1",
                 "description": "Test, trace and support: bearer-token JSON API for integrations. Personal data: "
                                "every read is audited."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {**COMPONENTS, "Person": PERSON, "Contact": CONTACT, "Case": CASE,
                                   "WorkItem": WORK_ITEM, "Escalation": ESCALATION, "KpiGroup": KPI_GROUP}},
        "paths": paths,
    }


@bp.get("/openapi.json", endpoint="openapi")
@public
def openapi_json():
    return jsonify(spec())


def register_docs(app) -> None:
    from tts.permissions import require

    @app.route("/api/docs")
    @require()
    def api_docs():
        return render_template("api/docs.html", spec=spec())
