"""Request body schemas for /api/v1: they validate requests (check_body) and describe them (openapi.py)."""
import copy

from jsonschema import Draft202012Validator

from tts.errors import ErrorCollector

DATE = {"type": "string", "format": "date", "example": "2026-11-21"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
TEXT = {"type": ["string", "null"]}

PERSON_IN = {"type": "object", "properties": {
    "first_name": {"type": "string", "example": "Ione"}, "last_name": {"type": "string", "example": "Sallow"},
    "date_of_birth": NULLABLE_DATE, "phone": {"type": ["string", "null"], "example": "07700 900321"},
    "email": TEXT, "address": TEXT, "postcode": {"type": ["string", "null"], "example": "S11 8YA"},
    "language": {"type": ["string", "null"], "example": "pl",
                 "description": "ISO 639-1 code (or the language's English name): texts go in it"}}}
CASE_IN = {"type": "object", "properties": {
    "person": {"$ref": "#/components/schemas/PersonIn"}, "test_date": DATE, "symptom_onset_date": NULLABLE_DATE,
    "source": {"type": "string", "enum": ["api", "national_referral", "local"]},
    "new_episode": {"type": "boolean", "description": "Log it even though the person has a current case"},
    "settings": {"type": "array", "maxItems": 20, "description": "Settings they attended (the cluster rule runs)",
                 "items": {"$ref": "#/components/schemas/CaseSettingIn"}},
    "language": {"type": ["string", "null"], "description": "The person's language (also accepted in person)"}},
    "required": ["person", "test_date"]}
CONTACT_IN = {"type": "object", "properties": {
    "person": {"$ref": "#/components/schemas/PersonIn"},
    "relationship": {"type": "string", "enum": ["household", "close", "setting"]}, "last_exposure_date": DATE,
    "language": {"type": ["string", "null"], "description": "The person's language (also accepted in person)"}},
    "required": ["person", "relationship", "last_exposure_date"]}
ATTEMPT_IN = {"type": "object", "properties": {
    "outcome": {"type": "string", "enum": ["reached", "no_answer", "voicemail", "busy", "wrong_number", "refused",
                                           "callback_requested", "language_barrier"]},
    "notes": TEXT, "callback_at": TEXT, "language": TEXT, "claim_token": TEXT}, "required": ["outcome"]}
CALL_ATTEMPT_IN = {"type": "object", "properties": {
    "items": {"type": "array", "minItems": 1, "maxItems": 50, "items": {
        "type": "object", "properties": {"id": ID, "claim_token": TEXT}, "required": ["id"]}},
    **{k: v for k, v in ATTEMPT_IN["properties"].items() if k != "claim_token"}}, "required": ["items", "outcome"]}
REASSIGN_IN = {"type": "object", "properties": {
    "work_item_ids": {"type": "array", "items": ID, "minItems": 1},
    "assignee_id": {"oneOf": [ID, {"type": "null"}]}}, "required": ["work_item_ids", "assignee_id"]}
VISIT_IN = {"type": "object", "properties": {
    "outcome": {"type": "string", "enum": ["reached", "no_answer", "moved_away", "refused", "unsafe"]},
    "notes": TEXT}, "required": ["outcome"]}
SUPPORT_IN = {"type": "object", "properties": {
    "kind": {"type": "string", "enum": ["food", "medicine", "isolation_payment", "mental_health", "housing", "other"]},
    "urgency": {"type": "string", "enum": ["today", "this_week", "routine"]}, "notes": TEXT}, "required": ["kind"]}
SUPPORT_PATCH = {"type": "object", "properties": {
    "status": {"type": "string", "enum": ["requested", "referred", "fulfilled", "declined"]},
    "referred_to": TEXT, "notes": TEXT, "notify": {"type": "boolean"}}}

CLOSE_IN = {"type": "object", "properties": {
    "reason": {"type": "string", "enum": ["lost_to_follow_up", "refused", "duplicate", "entered_in_error",
                                          "moved_away", "other"]},
    "notes": TEXT}, "required": ["reason"]}

CONVERT_IN = {"type": "object", "properties": {
    "test_date": DATE, "symptom_onset_date": NULLABLE_DATE, "person": {"$ref": "#/components/schemas/PersonIn"}},
    "required": ["test_date"]}

CASE_PATCH = {"type": "object", "properties": {
    "test_date": DATE, "symptom_onset_date": NULLABLE_DATE, "person": {"$ref": "#/components/schemas/PersonIn"},
    "reason": {"type": "string"}}, "required": ["reason"]}
CONTACT_PATCH = {"type": "object", "properties": {
    "relationship": {"type": "string", "enum": ["household", "close", "setting"]}, "last_exposure_date": DATE,
    "reason": {"type": "string"}}, "required": ["reason"]}

NOTE_IN = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
MERGE_IN = {"type": "object", "properties": {"into": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
            "required": ["into"]}

EXPORT_JOB_IN = {"type": "object", "properties": {
    "dataset": {"type": "string", "enum": ["cases", "contacts", "attempts", "escalations", "support_needs",
                                           "outbreaks"]},
    "format": {"type": "string", "enum": ["xlsx"]}, "from": DATE, "to": DATE, "identifiable": {"type": "boolean"}},
    "required": ["dataset"]}

SETTING_KINDS = ["care_home", "school", "workplace", "hospital", "hospitality", "other"]
SETTING_IN = {"type": "object", "properties": {
    "name": {"type": "string", "example": "Ferncliffe Care Home"}, "kind": {"type": "string", "enum": SETTING_KINDS},
    "address": TEXT, "postcode": {"type": "string", "example": "S11 8YA"}, "contact_name": TEXT,
    "contact_phone": {"type": ["string", "null"], "example": "0114 496 0123"}, "contact_email": TEXT,
    "size": {"type": ["integer", "null"], "minimum": 1}, "notes": TEXT},
    "required": ["name", "kind", "postcode"]}
CASE_SETTING_IN = {"type": "object", "properties": {"setting_id": ID, "last_attended": NULLABLE_DATE},
                   "required": ["setting_id"]}
OUTBREAK_ACTION_IN = {"type": "object", "properties": {
    "kind": {"type": "string", "enum": ["call_setting", "risk_assessment", "advice_given", "testing_arranged", "visit",
                                       "closure_advised", "other"]},
    "notes": TEXT, "due_date": NULLABLE_DATE,
    "done": {"type": "boolean", "description": "Done already (default: yes, unless the due date is in the future)"}},
    "required": ["kind"]}
OUTBREAK_PATCH = {"type": "object", "properties": {
    "status": {"type": "string", "enum": ["open", "monitoring", "closed"]}, "reason": {"type": "string"}},
    "required": ["status", "reason"]}
OUTBREAK_IN = {"type": "object", "properties": {"setting_id": ID, "reason": {"type": "string"},
                                                "case_ids": {"type": "array", "items": ID}},
               "required": ["setting_id", "reason"]}

COMPONENTS = {"PersonIn": PERSON_IN, "SettingIn": SETTING_IN, "CaseSettingIn": CASE_SETTING_IN,
              "OutbreakActionIn": OUTBREAK_ACTION_IN, "OutbreakPatch": OUTBREAK_PATCH, "OutbreakIn": OUTBREAK_IN, "CaseIn": CASE_IN, "ContactIn": CONTACT_IN, "AttemptIn": ATTEMPT_IN,
              "CallAttemptIn": CALL_ATTEMPT_IN,
              "ReassignIn": REASSIGN_IN, "VisitIn": VISIT_IN, "SupportIn": SUPPORT_IN, "SupportPatch": SUPPORT_PATCH,
              "ExportJobIn": EXPORT_JOB_IN, "CloseIn": CLOSE_IN,
              "ConvertIn": CONVERT_IN, "CasePatch": CASE_PATCH, "ContactPatch": CONTACT_PATCH,
              "NoteIn": NOTE_IN, "MergeIn": MERGE_IN}
_REGISTRY_ROOT = {"$defs": COMPONENTS}


def _resolve(schema: dict) -> dict:
    """Inline the #/components/schemas references for the validator."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolve(COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]])
        return {k: _resolve(v) for k, v in schema.items() if k != "example"}
    if isinstance(schema, list):
        return [_resolve(v) for v in schema]
    return schema


_VALIDATORS = {name: Draft202012Validator(_resolve(schema), format_checker=Draft202012Validator.FORMAT_CHECKER)
               for name, schema in COMPONENTS.items()}


def _without(body: dict, paths: list[list]) -> dict:
    """A copy of the body without the values the schema refused, so the service that runs next (to report
    its own problems in the same answer) never sees an object where it expects text, or a boolean id."""
    body = copy.deepcopy(body)
    for path in paths:
        node = body
        for step in path[:-1]:
            node = node[step] if isinstance(node, dict) and step in node or (
                isinstance(node, list) and isinstance(step, int) and step < len(node)) else None
            if node is None:
                break
        if isinstance(node, dict) and path and path[-1] in node:
            node[path[-1]] = None
        elif isinstance(node, list) and path and isinstance(path[-1], int) and path[-1] < len(node):
            node[path[-1]] = None
    return body


def check_body(name: str, body, errors: ErrorCollector) -> dict:
    """Validate a JSON body against schema `name`; problems are added to `errors` by dotted field name.
    Returns the body when it is an object (possibly with problems), else {}."""
    if not isinstance(body, dict):
        errors.add("body", "Send a JSON object with Content-Type: application/json")
        return {}
    found = sorted(_VALIDATORS[name].iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    if found:
        body = _without(body, [list(e.absolute_path) for e in found])
    for error in found:
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            key, message = ".".join(p for p in (path, missing) if p), "This field is required"
        elif error.validator == "type":
            expected = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
            key, message = path or "body", f"Must be {'a' if expected[0] not in 'aeiou' else 'an'} {expected}"
        elif error.validator == "format":
            key, message = path or "body", ("Enter a date in the form YYYY-MM-DD" if error.instance == ""
                                            else "Use a real date in the form YYYY-MM-DD")
        elif error.validator in ("minimum", "maximum"):
            key, message = path or "body", "Use a record id: a whole number from 1 to 2147483647"
        elif error.validator == "enum":
            key, message = path, "Must be one of: " + ", ".join(str(v) for v in error.validator_value)
        else:
            key, message = path or "body", "This value is not allowed here"
        if key not in errors:
            errors.add(key, message)
    return body
