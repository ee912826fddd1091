"""Exports: pseudonymised by default, identifiable only with the grant, audited, formula-safe, streamed."""
import csv
import io
import os
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from tests.conftest import make_app, sign_in
from tests.factories import person_data
from tts.audit.models import AuditEvent
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.reports.datasets import age_band, safe_cell


@pytest.fixture
def data(ctx, daytime):
    with ctx():
        create_case(None, person_data(1, first_name="=HYPERLINK(\"x\")", phone="07700 900101"),
                    test_date=today(), symptom_onset_date=None)
        create_case(None, person_data(2, address="2 Export St", postcode="S10 2TN"), test_date=today(),
                    symptom_onset_date=None)


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_pseudonymised_by_default(client, api_token, data):
    headers, user = api_token("reporting")
    response = client.get("/api/v1/exports/cases.csv?from=2026-11-23&to=2026-11-23", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read_csv(response)
    assert len(rows) == 2 and response.headers["X-Row-Count"] == "2"
    assert set(rows[0]) >= {"pseudonymous_id", "age_band", "postcode_district"}
    assert not {"first_name", "last_name", "phone", "email", "address", "postcode", "date_of_birth"} & set(rows[0])
    assert rows[1]["postcode_district"] == "S10" and rows[0]["pseudonymous_id"].startswith("P")
    again = read_csv(client.get("/api/v1/exports/cases.csv?from=2026-11-23&to=2026-11-23", headers=headers))
    assert again[0]["pseudonymous_id"] == rows[0]["pseudonymous_id"]  # stable across exports
    assert "Kestrel" not in response.get_data(as_text=True) and "900101" not in response.get_data(as_text=True)


def test_identifiable_needs_the_grant(app, client, api_token, data):
    headers, user = api_token("reporting")
    url = "/api/v1/exports/cases.csv?from=2026-11-23&to=2026-11-23&identifiable=true"
    assert client.get(url, headers=headers).status_code == 403
    result = app.test_cli_runner().invoke(args=["users", "grant", user["email"], "export_identifiable"])
    assert result.exit_code == 0, result.output
    rows = read_csv(client.get(url, headers=headers))
    assert rows[0]["phone"] == "'+447700900101"  # starts with +: shown as text in a spreadsheet
    assert rows[0]["first_name"] == "'=HYPERLINK(\"x\")"  # formula injection neutralised
    app.test_cli_runner().invoke(args=["users", "revoke", user["email"], "export_identifiable"])
    assert client.get(url, headers=headers).status_code == 403


def test_every_export_is_audited(app, client, api_token, data):
    headers, user = api_token("supervisor")
    client.get("/api/v1/exports/contacts.csv?from=2026-11-01&to=2026-11-23", headers=headers)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.create")).one()
        assert event.actor_id == user["id"] and event.via == "api"
        details = dict(event.details)
        assert isinstance(details.pop("token_id"), int)  # which token made the export
        assert details == {"dataset": "contacts", "from": "2026-11-01", "to": "2026-11-23",
                           "identifiable": False, "rows": 0, "format": "csv"}


@pytest.mark.parametrize("dataset", ["cases", "contacts", "attempts", "escalations", "support_needs"])
def test_each_dataset_in_xlsx(client, api_token, data, dataset):
    from openpyxl import load_workbook

    headers, _ = api_token("reporting")
    with client.get(f"/api/v1/exports/{dataset}.xlsx?from=2026-11-23&to=2026-11-23", headers=headers) as response:
        assert response.status_code == 200
        content = response.data
    sheet = load_workbook(io.BytesIO(content), read_only=True)["data"]
    header = next(sheet.iter_rows(values_only=True))
    assert "pseudonymous_id" in header and "notes" not in header


def test_xlsx_cells_never_become_formulas(app, client, api_token, data):
    from openpyxl import load_workbook

    headers, user = api_token("reporting")
    app.test_cli_runner().invoke(args=["users", "grant", user["email"], "export_identifiable"])
    with client.get("/api/v1/exports/cases.xlsx?from=2026-11-23&to=2026-11-23&identifiable=true",
                    headers=headers) as response:
        content = response.data
    sheet = load_workbook(io.BytesIO(content))["data"]
    column = [c.value for c in next(sheet.iter_rows(max_row=1))].index("first_name")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert "'=HYPERLINK(\"x\")" in [c.value for c in cells] and all(c.data_type == "s" for c in cells)


def test_unknown_dataset_and_roles(client, api_token, tracer_client):
    headers, _ = api_token("reporting")
    assert client.get("/api/v1/exports/people.csv", headers=headers).status_code == 404
    assert client.get("/api/v1/exports/cases.pdf", headers=headers).status_code == 404
    tracer, _ = api_token("tracer")
    assert client.get("/api/v1/exports/cases.csv", headers=tracer).status_code == 403
    assert tracer_client.get("/reports/exports").status_code == 403


def test_export_page(client, make_user, data):
    sign_in(client, make_user("reporting"))
    html = client.get("/reports/exports?from=2026-11-23&to=2026-11-23").get_data(as_text=True)
    assert "Pseudonymised" in html and "Identifiable" not in html
    assert client.get("/reports/exports/cases.csv?from=2026-11-23&to=2026-11-23").status_code == 200


def test_helpers():
    assert [safe_cell(v) for v in ("=1+1", "+44", "-3", "@x", "\tx", "\rx", "ok", 5)] == [
        "'=1+1", "'+44", "'-3", "'@x", "'\tx", "'\rx", "ok", 5]
    on = date(2026, 11, 23)
    assert [age_band(date(y, 11, 24), on) for y in (2022, 2015, 2009, 2000, 1990, 1940)] == [
        "0-4", "5-11", "12-17", "18-29", "30-39", "80+"]
    assert age_band(None, on) is None


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.no_rollback
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads resident memory from /proc")
def test_memory_stays_flat_for_200k_rows(fresh_database_url):
    """Streaming 200,000 rows: resident memory after 200,000 is about what it was after 20,000.
    (Holding the rows, e.g. in the session's identity map, would add hundreds of megabytes.)"""
    from tts.reports.datasets import dataset
    from tts.reports.exporting import csv_chunks
    from tts.reports.filters import Filters

    app = make_app(fresh_database_url("export"))
    created = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with app.app_context():
        from tts.cases.models import Case
        from tts.people.models import Person

        for start in range(1, 200_001, 20_000):
            ids = range(start, start + 20_000)
            db.session.execute(insert(Person), [{"id": i, "first_name": "Bulk", "last_name": f"Row{i}",
                                                 "date_of_birth": date(1980, 1, 1), "postcode": "S1 2HH",
                                                 "is_vulnerable": False, "has_sms_opt_out": False,
                                                 "created_at": created, "updated_at": created} for i in ids])
            db.session.execute(insert(Case), [{"id": i, "reference": f"B-{i}", "person_id": i,
                                               "test_date": date(2026, 11, 22), "source": "local", "status": "open",
                                               "isolation_end_date": date(2026, 12, 2), "policy_id": 1,
                                               "created_at": created} for i in ids])
        db.session.commit()
        db.session.remove()
        ds = dataset("cases", Filters(date(2026, 11, 23), date(2026, 11, 23)), identifiable=False)
        marks = {}
        n = 0
        for chunk in csv_chunks(ds, date(2026, 11, 23)):
            before = n
            n += chunk.count("\n")
            for mark in (20_001, 200_001):
                if before < mark <= n:
                    marks[mark] = rss_bytes()
        db.session.remove()
        db.engine.dispose()
    assert n == 200_001  # the header and every row
    growth = marks[200_001] - marks[20_001]
    assert growth < 40 * 1024 * 1024, f"resident memory grew {growth / 1e6:.1f} MB from 20k to 200k rows"


def test_xlsx_larger_than_one_excel_sheet_is_refused_with_a_reason(client, api_token, data, monkeypatch):
    import tts.reports.exports as exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 2)  # Excel's real limit is 1,048,576 rows
    headers, _ = api_token("supervisor")
    response = client.get(f"/api/v1/exports/cases.xlsx?from={today()}&to={today()}", headers=headers)
    assert response.status_code == 422 and "download CSV" in response.json["errors"]["to"][0]
    ok = client.get(f"/api/v1/exports/cases.csv?from={today()}&to={today()}", headers=headers)
    assert ok.status_code == 200
