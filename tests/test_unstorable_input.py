"""Issue: malformed input gave 500s. The classes guarded here, on SQLite and PostgreSQL (where NUL bytes fail
differently): mistyped JSON values reach no service; ids out of the integer range or booleans are field errors;
NUL characters and unpaired surrogates anywhere in a request are refused at the door and never stored; JSON
nested too deeply is a 400; a CSV with a repeated header column or a NUL is refused whole, naming it; dates
outside a plausible window, and empty strings where a date is expected, are 422s naming the field."""
import io
import json

import pytest
from sqlalchemy import func, select

from tests.api.test_cases_api import case_body
from tts.clock import today
from tts.extensions import db
from tts.people.models import Person

NUL = "\u0000"


def _people(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


def _case(client, headers) -> dict:
    response = client.post("/api/v1/cases", headers=headers, json=case_body())
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize("field, value", [
    ("source", {"a": 1}), ("source", ["api"]), ("source", 7), ("person", ["x"]), ("test_date", {"y": 2026}),
])
def test_mistyped_case_fields_are_422_naming_the_field(client, api_token, field, value):
    headers, _ = api_token("tracer")
    body = case_body()
    body[field] = value
    response = client.post("/api/v1/cases", headers=headers, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["errors"]


@pytest.mark.parametrize("value", [{"k": "household"}, ["household"], True, 3])
def test_mistyped_relationship_is_422(client, api_token, value):
    headers, _ = api_token("tracer")
    case = _case(client, headers)
    response = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=headers, json={
        "person": {"first_name": "Kit", "last_name": "Sallow", "phone": "07700 900654"},
        "relationship": value, "last_exposure_date": case["test_date"]})
    assert response.status_code == 422 and "relationship" in response.json["errors"]


@pytest.mark.parametrize("item_id", [2**31, 2**63, -1, 0, True, 1.5, "1"])
def test_work_item_ids_out_of_range_or_of_the_wrong_type_are_field_errors(client, api_token, item_id):
    headers, _ = api_token("supervisor")
    call = client.post("/api/v1/calls/attempts", headers=headers,
                       json={"items": [{"id": item_id}], "outcome": "no_answer"})
    assert call.status_code == 422 and "items.0.id" in call.json["errors"], call.get_data(as_text=True)
    reassign = client.post("/api/v1/work-items/reassign", headers=headers,
                           json={"work_item_ids": [item_id], "assignee_id": None})
    assert reassign.status_code == 422, reassign.get_data(as_text=True)
    for path in (f"/api/v1/work-items/{item_id}/claim", f"/api/v1/escalations?assignee_id={item_id}"):
        assert client.post(path, headers=headers).status_code in (404, 405, 422) if "claim" in path else \
            client.get(path, headers=headers).status_code in (200, 422)


@pytest.mark.parametrize("text", [f"Io{NUL}ne", "Io\ud800ne", "\udfff"])
def test_nul_and_lone_surrogates_in_json_are_refused_and_never_stored(app, client, api_token, text):
    headers, _ = api_token("tracer")
    before = _people(app)
    for where in ("first_name", "address"):
        raw = json.dumps(case_body(**{where: text}))  # ensure_ascii: \\u0000 and \\ud800 escapes
        response = client.post("/api/v1/cases", headers={**headers, "Content-Type": "application/json"}, data=raw)
        assert response.status_code == 400, response.get_data(as_text=True)
        message = response.json["error"]
        assert f"person.{where}" in message and ("NUL" in message or "surrogate" in message)
    key = json.dumps({"person": {f"first{NUL}": "x"}, "test_date": today().isoformat()})
    assert client.post("/api/v1/cases", headers={**headers, "Content-Type": "application/json"},
                       data=key).status_code == 400
    assert _people(app) == before


def test_nul_in_forms_query_strings_and_paths_is_refused_on_the_web(app, tracer_client):
    before = _people(app)
    page = tracer_client.post("/cases/new", data={"first_name": f"Ada{NUL}", "last_name": "Kestrel"})
    assert page.status_code == 400 and "NUL character" in page.get_data(as_text=True)
    assert tracer_client.get(f"/search?name=Ada{NUL}").status_code == 400
    assert tracer_client.get("/cases/%00").status_code in (400, 404)
    assert _people(app) == before


def test_json_nested_very_deeply_is_a_400_not_a_crash(client, api_token):
    headers, _ = api_token("tracer")
    for depth in (40, 5000, 200_000):
        raw = "[" * depth + "]" * depth
        response = client.post("/api/v1/cases", headers={**headers, "Content-Type": "application/json"}, data=raw)
        assert response.status_code == 400, depth
        assert "nests more than" in response.json["error"]
    ok = client.post("/api/v1/cases", headers=headers, json=case_body())
    assert ok.status_code == 201


def test_a_csv_with_a_repeated_header_column_is_refused_naming_it(app, client, api_token):
    from tts.imports.services import COLUMNS

    headers, _ = api_token("supervisor")
    header = ",".join([*COLUMNS, "phone"])
    row = ",".join(["case", "R1", "Ada", "Kestrel", "1990-02-01", "07700 900111", "", "1 Mock Street", "S1 2HH",
                    today().isoformat(), "", "", "", "", "07700 900222"])
    response = client.post("/api/v1/imports", headers=headers,
                           data={"file": (io.BytesIO(f"{header}\n{row}\n".encode()), "referrals.csv")})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["status"] == "rejected" and response.json["rows_imported"] == 0
    assert [e["column"] for e in response.json["errors"]] == ["phone"]
    assert "2 times" in response.json["errors"][0]["message"]


def test_a_csv_with_a_nul_is_refused_naming_the_row(app, client, api_token, tracer_client):
    from tts.imports.services import COLUMNS

    headers, _ = api_token("supervisor")
    content = ",".join(COLUMNS) + "\ncase,R1,Ada,Kes" + NUL + "trel\n"
    before = _people(app)
    response = client.post("/api/v1/imports", headers=headers,
                           data={"file": (io.BytesIO(content.encode()), "referrals.csv")})
    assert response.status_code == 422 and "Row 2 contains a NUL" in response.json["errors"]["file"][0]
    assert _people(app) == before


@pytest.mark.parametrize("field, value, message", [
    ("test_date", "0001-01-01", "within the last 90 days"),
    ("test_date", "2062-11-01", "today or in the past"),
    ("symptom_onset_date", "1999-12-31", "within the last 90 days"),
    ("test_date", "", "Enter a date in the form YYYY-MM-DD"),
    ("symptom_onset_date", "", "Enter a date in the form YYYY-MM-DD"),
    ("symptom_onset_date", "23/11/2026", "Use a real date"),
])
def test_implausible_or_empty_case_dates_are_422(client, api_token, field, value, message):
    headers, _ = api_token("tracer")
    body = case_body()
    body[field] = value
    response = client.post("/api/v1/cases", headers=headers, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert any(message in m for m in response.json["errors"][field]), response.json


def test_a_date_of_birth_before_1900_and_an_old_exposure_are_refused(client, api_token, daytime):
    headers, _ = api_token("tracer")
    old = client.post("/api/v1/cases", headers=headers, json=case_body(date_of_birth="1899-12-31"))
    assert old.status_code == 422 and "person.date_of_birth" in old.json["errors"]
    case = _case(client, headers)
    contact = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=headers, json={
        "person": {"first_name": "Kit", "last_name": "Sallow", "phone": "07700 900654"},
        "relationship": "close", "last_exposure_date": "0001-01-01"})
    assert contact.status_code == 422 and "last_exposure_date" in contact.json["errors"]


def test_the_window_is_configurable(app, client, api_token):
    headers, _ = api_token("tracer")
    body = case_body()
    body["test_date"] = body["symptom_onset_date"] = "2026-01-05"
    app.config["TTS_PLAUSIBLE_DAYS"] = 400
    try:
        assert client.post("/api/v1/cases", headers=headers, json=body).status_code in (201, 422)
        body2 = {**case_body(), "new_episode": True}  # the same person as above (said to be a new illness)
        assert client.post("/api/v1/cases", headers=headers, json=body2).status_code == 201
    finally:
        app.config["TTS_PLAUSIBLE_DAYS"] = 90


@pytest.mark.parametrize("payload, field", [
    ({"dataset": "cases", "to": ""}, "to"), ({"dataset": "cases", "from": ""}, "from"),
    ({"dataset": "cases", "from": "0001-01-01", "to": "0001-02-01"}, "from"),
    ({"dataset": "cases", "to": "9999-12-31"}, "to"),
])
def test_export_job_dates_empty_or_absurd_are_422(client, api_token, payload, field):
    headers, _ = api_token("reporting")
    response = client.post("/api/v1/exports/jobs", headers=headers, json=payload)
    assert response.status_code == 422 and field in response.json["errors"], response.get_data(as_text=True)
    kpis = client.get("/api/v1/reports/kpis?from=2026-11-01&to=9999-12-31", headers=headers)
    assert kpis.status_code == 422
