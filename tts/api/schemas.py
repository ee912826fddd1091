"""Request body schemas for /api/v1: they validate requests (check_body) and describe them (openapi.py)."""
from jsonschema import Draft202012Validator

from tts.errors import ErrorCollector

DATE = {"type": "string", "format": "date", "example": "2026-11-21"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
TEXT = {"type": ["string", "null"]}

PERSON_IN = {"type": "object", "properties": {
    "first_name": {"type": "string", "example": "Ione"}, "last_name": {"type": "string", "example": "Sallow"},
    "date_of_birth": NULLABLE_DATE, "phone": {"type": ["string", "null"], "example": "07700 900321"},
    "email": TEXT, "address": TEXT, "postcode": {"type": ["string", "null"], "example": "S11 8YA"}}}
CASE_IN = {"type": "object", "properties": {
    "person": {"$ref": "#/components/schemas/PersonIn"}, "test_date": DATE, "symptom_onset_date": NULLABLE_DATE,
    "source": {"type": "string", "enum": ["api", "national_referral", "local"]}},
    "required": ["person", "test_date"]}
CONTACT_IN = {"type": "object", "properties": {
    "person": {"$ref": "#/components/schemas/PersonIn"},
    "relationship": {"type": "string", "enum": ["household", "close", "setting"]}, "last_exposure_date": DATE},
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

COMPONENTS = {"PersonIn": PERSON_IN, "CaseIn": CASE_IN, "ContactIn": CONTACT_IN, "AttemptIn": ATTEMPT_IN,
              "CallAttemptIn": CALL_ATTEMPT_IN,
              "ReassignIn": REASSIGN_IN, "VisitIn": VISIT_IN, "SupportIn": SUPPORT_IN, "SupportPatch": SUPPORT_PATCH}
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


_VALIDATORS = {name: Draft202012Validator(_resolve(schema)) for name, schema in COMPONENTS.items()}


def check_body(name: str, body, errors: ErrorCollector) -> dict:
    """Validate a JSON body against schema `name`; problems are added to `errors` by dotted field name.
    Returns the body when it is an object (possibly with problems), else {}."""
    if not isinstance(body, dict):
        errors.add("body", "Send a JSON object with Content-Type: application/json")
        return {}
    for error in sorted(_VALIDATORS[name].iter_errors(body), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            key, message = ".".join(p for p in (path, missing) if p), "This field is required"
        elif error.validator == "type":
            expected = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
            key, message = path or "body", f"Must be {'a' if expected[0] not in 'aeiou' else 'an'} {expected}"
        elif error.validator == "enum":
            key, message = path, "Must be one of: " + ", ".join(str(v) for v in error.validator_value)
        else:
            key, message = path or "body", "This value is not allowed here"
        if key not in errors:
            errors.add(key, message)
    return body
