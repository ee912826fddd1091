"""Importing national referrals: all problems reported, nothing half-written, households linked."""
import io

import pytest
from sqlalchemy import func, select

from tts.callqueue.models import WorkItem
from tts.cases.models import Case, Contact
from tts.extensions import db
from tts.imports.services import COLUMNS, create_batch, import_now_or_later, run_import, run_pending_imports
from tts.people.models import Person

HEADER = ",".join(COLUMNS)


def csv_of(*rows: str) -> str:
    return HEADER + "\n" + "\n".join(rows) + "\n"


GOOD = csv_of(
    "NR-1,case,Tamsin,Wray,1984-02-11,07700 900601,,1 Referral Row Sheffield,s6 2aa,2026-11-21,2026-11-20,,,",
    "NR-2,contact,Tobias,Wray,,07700 900602,,,,,,NR-1,household,21/11/2026",
    "NR-3,contact,Uma,Yelland,12/05/1990,0114 496 0603,uma@example.org,5 Other Road,S10 2TN,,,NR-1,close,2026-11-20",
    "NR-4,case,Vic,Zorn,1979-07-07,07700 900604,,9 Third St,S2 4SU,2026-11-22,,,,",
)
BAD = csv_of(
    "NR-1,case,Tamsin,Wray,1984-02-11,07700 900601,,1 Referral Row Sheffield,s6 2aa,2026-11-21,,,,",
    "NR-2,contact,,Wray,,12345,,,,,,NR-1,household,2026-11-21",
    "NR-3,case,Vic,Zorn,31/02/1979,07700 900604,,9 Third St,NOWHERE,2026-11-22,,,,",
    "NR-1,contact,Uma,Yelland,,07700 900605,,,,,,NR-9,close,2026-11-21",
    "NR-5,visitor,Xan,Quill,,07700 900606,,,,,,,,",
)


@pytest.fixture
def env(app, daytime):
    with app.app_context():
        yield


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Person, Case, Contact, WorkItem))


def test_every_problem_is_reported_and_nothing_is_written(env):
    before = counts()
    batch = create_batch(None, "bad.csv", BAD)
    run_import(None, batch)
    assert batch.status == "rejected" and batch.rows_imported == 0 and batch.rows_total == 5
    found = {(e["row"], e["column"]) for e in batch.errors}
    assert found == {(3, "first_name"), (3, "phone"), (4, "date_of_birth"), (5, "referral_id"),
                     (5, "case_referral_id"), (4, "postcode"), (6, "record_type")}
    messages = {(e["row"], e["column"]): e["message"] for e in batch.errors}
    assert messages[(5, "referral_id")] == "The same referral id is on row 2"
    assert messages[(4, "date_of_birth")] == "Use a date like 2026-11-23 or 23/11/2026"
    assert counts() == before


def test_a_valid_file_lands_completely_with_households(env):
    batch = import_now_or_later(None, "good.csv", GOOD)
    assert (batch.status, batch.rows_total, batch.rows_imported, batch.duplicates, batch.errors) == (
        "completed", 4, 4, 0, None)
    case = db.session.scalars(select(Case).where(Case.referral_id == "NR-1")).one()
    assert case.source == "national_referral" and case.person.postcode == "S6 2AA"
    household = db.session.scalars(select(Contact).where(Contact.referral_id == "NR-2")).one()
    assert household.person.household_id == case.person.household_id is not None
    assert household.last_exposure_date.isoformat() == "2026-11-21"
    assert db.session.scalar(select(func.count()).select_from(WorkItem)) == 4
    assert batch.payload is None  # the uploaded personal data is not kept


def test_reimporting_reports_duplicates_and_changes_nothing(env):
    import_now_or_later(None, "good.csv", GOOD)
    before = counts()
    again = import_now_or_later(None, "good-again.csv", GOOD)
    assert (again.status, again.rows_imported, again.duplicates) == ("completed", 0, 4)
    assert counts() == before


def test_a_contact_can_name_a_case_from_an_earlier_import(env):
    import_now_or_later(None, "cases.csv", csv_of(GOOD.splitlines()[1]))
    later = import_now_or_later(None, "contacts.csv", csv_of(
        "NR-7,contact,Wyn,Wray,,07700 900607,,,,,,NR-1,household,2026-11-21"))
    assert later.status == "completed" and later.rows_imported == 1


def test_exposure_outside_the_window_uses_the_apps_own_rule(env):
    batch = import_now_or_later(None, "window.csv", csv_of(
        GOOD.splitlines()[1], "NR-8,contact,Ash,Wray,,07700 900608,,,,,,NR-1,close,2026-10-01"))
    assert batch.status == "rejected"
    (error,) = batch.errors
    assert (error["row"], error["column"]) == (3, "last_exposure_date") and "infectious" in error["message"]


def test_missing_columns_reject_the_file(env):
    batch = import_now_or_later(None, "short.csv", "referral_id,first_name\nNR-1,Ann\n")
    assert batch.status == "rejected"
    assert {e["column"] for e in batch.errors} >= {"record_type", "last_exposure_date"}
    assert all(e["row"] == 1 for e in batch.errors)


def test_columns_in_any_order_extra_columns_short_rows_and_blank_lines():
    from tts.imports.services import read_rows

    header = ",".join(reversed(COLUMNS)) + ",notes"
    content = "\ufeff" + header + "\r\n" + "\r\n".join([
        "2026-11-21,close,NR-1,,,S6 2AA,1 Row,,07700 900601,,Wray, Tamsin ,contact,NR-2,ignored",
        "",  # a blank line is not a row and is not counted
        ",,,,2026-11-21,S2 4SU",  # a short row: the columns it lacks are blank
    ]) + "\r\n"
    rows, problems = read_rows(content)
    assert problems == []
    assert [r["_row"] for r in rows] == [2, 3]
    first, short = rows
    assert (first["referral_id"], first["record_type"], first["first_name"], first["case_referral_id"],
            first["last_exposure_date"]) == ("NR-2", "contact", "Tamsin", "NR-1", "2026-11-21")
    assert (short["postcode"], short["test_date"], short["referral_id"], short["record_type"]) == \
        ("S2 4SU", "2026-11-21", "", "")


def test_a_file_over_the_row_limit_is_refused_whole(app, env, monkeypatch):
    # An import holds the whole file in memory: past TTS_IMPORT_MAX_ROWS it is refused, nothing written.
    monkeypatch.setitem(app.config, "TTS_IMPORT_MAX_ROWS", 3)
    before = counts()
    batch = import_now_or_later(None, "four.csv", GOOD)
    assert batch.status == "rejected" and batch.rows_imported == 0
    assert batch.errors == [{"row": 1, "column": "", "message": "The file has more than 3 rows, the most one "
                             "import takes: split it into smaller files and import each"}]
    assert counts() == before
    monkeypatch.setitem(app.config, "TTS_IMPORT_MAX_ROWS", 4)
    assert import_now_or_later(None, "four.csv", GOOD).status == "completed"


def test_large_files_wait_for_the_worker(app, env):
    app.config["TTS_IMPORT_INLINE_MAX_ROWS"] = 2
    try:
        batch = import_now_or_later(None, "big.csv", GOOD)
        assert batch.status == "pending" and batch.rows_total == 4
        db.session.commit()
        assert run_pending_imports() == 1
        db.session.refresh(batch)
        assert batch.status == "completed" and batch.rows_imported == 4
        assert run_pending_imports() == 0
    finally:
        app.config["TTS_IMPORT_INLINE_MAX_ROWS"] = 2000


def test_api_contract(client, api_token, daytime):
    headers, _ = api_token("supervisor")
    response = client.post("/api/v1/imports", headers=headers,
                           data={"file": (io.BytesIO(BAD.encode()), "bad.csv")}, content_type="multipart/form-data")
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "rejected" and body["rows_total"] == 5 and body["rows_imported"] == 0
    assert set(body) >= {"batch_id", "status", "rows_total", "rows_imported", "duplicates", "errors"}
    assert {"row", "column", "message"} == set(body["errors"][0])
    ok = client.post("/api/v1/imports", headers=headers, data={"file": (io.BytesIO(GOOD.encode()), "good.csv")},
                     content_type="multipart/form-data")
    assert ok.json["status"] == "completed" and ok.json["rows_imported"] == 4 and ok.json["errors"] == []
    missing = client.post("/api/v1/imports", headers=headers, data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.json["errors"]
    tracer, _ = api_token("tracer")
    assert client.post("/api/v1/imports", headers=tracer, data={}).status_code == 403


def test_upload_page_and_report(client, make_user, daytime):
    from tests.conftest import sign_in

    sign_in(client, make_user("supervisor"))
    page = client.get("/imports/").get_data(as_text=True)
    assert "Import national referrals" in page and "Up to 100,000 rows a file" in page
    response = client.post("/imports/", data={"file": (io.BytesIO(BAD.encode()), "bad.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html and "The same referral id is on row 2" in html
    empty = client.post("/imports/", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "Choose a CSV file" in empty.get_data(as_text=True)
    assert client.get("/imports/template.csv").get_data(as_text=True).startswith("referral_id,record_type")


def test_a_case_referral_id_twice_in_one_file_is_a_row_error(env):
    row = GOOD.splitlines()[1]
    batch = import_now_or_later(None, "twice.csv", csv_of(row, row.replace("Tamsin", "Tam")))
    assert batch.status == "rejected"
    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, "referral_id")]


def test_referral_ids_imported_before_are_looked_up_in_chunks(env):
    from tts.imports.services import _imported_before, read_rows

    import_now_or_later(None, "good.csv", GOOD)
    rows, _ = read_rows(GOOD + "NR-5,case,Wes,Arden,1970-01-01,07700 900605,,2 New Row,S3 7AA,2026-11-22,,,,\n")
    expected = {("case", "NR-1"), ("contact", "NR-2"), ("contact", "NR-3"), ("case", "NR-4")}
    assert _imported_before(rows) == _imported_before(rows, chunk=1) == expected


def test_progress_says_when_every_row_is_checked_and_the_rest_is_saving(app, client, make_user, daytime):
    from tests.conftest import sign_in

    seen = []
    many = csv_of(*(f"NP-{n},case,Ada,Kestrel{n},1980-01-01,07700 900{n % 1000:03d},,{n} Sample Street,S1 1AB,"
                    f"2026-11-22,,,," for n in range(260)))
    with app.app_context():
        batch = create_batch(None, "many.csv", many)
        run_import(None, batch, seen.append)
        assert batch.status == "completed", batch.errors
        assert seen == [250, 260]  # every 250 rows, then once every row is checked
        waiting = create_batch(None, "big.csv", GOOD)
        waiting.status, waiting.rows_total, waiting.rows_processed = "processing", 4, 2
        db.session.commit()
        batch_id = waiting.id
    sign_in(client, make_user("supervisor"))
    assert "Importing: 2 of 4 rows checked" in client.get(f"/imports/{batch_id}/progress").get_data(as_text=True)
    with app.app_context():
        db.session.get(type(waiting), batch_id).rows_processed = 4
        db.session.commit()
    html = client.get(f"/imports/{batch_id}/progress").get_data(as_text=True)
    assert "All 4 rows checked: saving them" in html and 'value="100"' in html


def test_a_background_import_that_breaks_is_marked_failed_not_left_processing(app, env, monkeypatch, caplog,
                                                                             client, make_user):
    from tests.conftest import sign_in
    from tts.imports import bulk

    def broken(self):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(bulk.SetBased, "write", broken)
    app.config["TTS_IMPORT_INLINE_MAX_ROWS"] = 2
    try:
        batch = import_now_or_later(None, "big.csv", GOOD)
        db.session.commit()
        before = counts()
        assert run_pending_imports() == 1
        db.session.refresh(batch)
        assert batch.status == "failed" and batch.payload is None and batch.percent == 100
        assert "Upload the file again" in batch.errors[0]["message"]
        assert counts() == before  # nothing of it was kept
        assert "the database went away" in caplog.text  # the detail is in the log
        assert run_pending_imports() == 0  # and it is not taken again
        batch_id = batch.id
        db.session.commit()
        sign_in(client, make_user("supervisor"))
        page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
        assert "Nothing was imported: the import stopped" in page and f"(import {batch_id})" in page
        assert "database went away" not in page
    finally:
        app.config["TTS_IMPORT_INLINE_MAX_ROWS"] = 2000
