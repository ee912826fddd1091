"""Hostile input at the entry points: script and SQL-ish text is stored as text and escaped on every page
and in every export; malformed and mistyped bodies get clear 4xx answers, never a 500."""
import csv
import io

import pytest

from tests.api.test_cases_api import case_body
from tests.conftest import sign_in

SCRIPT = '<script>alert("tts")</script>'
SQLISH = "O'Brien'); DROP TABLE people;--"


def test_script_and_sql_in_names_and_notes_are_stored_as_text_and_escaped(app, client, make_user, api_token,
                                                                          daytime):
    headers, _ = api_token("tracer")
    created = client.post("/api/v1/cases", headers=headers, json=case_body(
        first_name=SCRIPT, last_name=SQLISH, address=f"1 {SCRIPT} Street"))
    assert created.status_code == 201, created.json
    case = created.json
    assert case["person"]["first_name"] == SCRIPT and case["person"]["last_name"] == SQLISH  # text, unchanged
    contact = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=headers, json={
        "person": {"first_name": "Kit", "last_name": SCRIPT, "phone": "07700 900654"},
        "relationship": "household", "last_exposure_date": case["test_date"]})
    assert contact.status_code == 201, contact.json

    supervisor = app.test_client()
    sign_in(supervisor, make_user("supervisor"))
    need = supervisor.post(f"/people/{case['person']['id']}/support-needs",
                           data={"kind": "food", "urgency": "routine", "notes": SCRIPT})
    assert need.status_code in (302, 303)
    pages = [f"/cases/{case['id']}", f"/people/{case['person']['id']}", "/cases/", "/supervise/queue", "/support/",
             "/escalations/", "/admin/audit/"]
    for url in pages:
        response = supervisor.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 403), url
        assert SCRIPT not in html, f"unescaped script on {url}"
    person_page = supervisor.get(f"/people/{case['person']['id']}").get_data(as_text=True)
    assert "&lt;script&gt;" in person_page and "O&#39;Brien&#39;); DROP TABLE people;--" in person_page

    admin = make_user("admin", can_export_identifiable=True)
    exporter = app.test_client()
    sign_in(exporter, admin)
    csv_text = exporter.get("/reports/exports/cases.csv?identifiable=true").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    # An export is data, not a page: the text itself (spreadsheet formulas are defused: tests/reports).
    assert [r["first_name"] for r in rows if r["case_id"] == str(case["id"])] == [SCRIPT]


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", "application/json"),
    (b"[]", "application/json"),
    (b'{"person": "a string", "test_date": 12}', "application/json"),
    (b'{"person": {"first_name": ["a"], "last_name": {"x": 1}}, "test_date": "yesterday"}', "application/json"),
    (b'{"person": {"first_name": "A", "last_name": "B"}, "test_date": "2026-13-45"}', "application/json"),
    (b"first_name=A", "application/x-www-form-urlencoded"),
    ("\u0000\udcff".encode("utf-8", "surrogatepass"), "application/json"),
])
def test_malformed_api_bodies_get_a_4xx_with_a_reason(client, api_token, body, content_type):
    headers, _ = api_token("tracer")
    response = client.post("/api/v1/cases", data=body, headers={**headers, "Content-Type": content_type})
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json and (response.json.get("errors") or response.json.get("error"))


def test_unknown_fields_are_ignored_and_never_stored(client, api_token):
    headers, _ = api_token("tracer")
    body = case_body()
    body["person"]["is_vulnerable_override"] = SCRIPT
    body["admin"] = True
    response = client.post("/api/v1/cases", headers=headers, json=body)
    assert response.status_code == 201 and SCRIPT not in response.get_data(as_text=True)


def test_hostile_form_input_rerenders_with_errors_not_a_500(tracer_client):
    response = tracer_client.post("/cases/new", data={
        "first_name": SCRIPT, "last_name": "x" * 5000, "phone": SQLISH, "test_date-day": "31",
        "test_date-month": "2", "test_date-year": "2026", "postcode": "<b>"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and SCRIPT not in html and "There is a problem" in html
