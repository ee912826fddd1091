"""Large spreadsheets are built by the worker: a progress page, then a download only the requester can
make; files expire; a failure says so; two workers never build the same job."""
import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import make_app, sign_in
from tests.factories import person_data
from tts.audit.models import AuditEvent
from tts.cases.services import create_case
from tts.clock import today, utcnow
from tts.extensions import db
from tts.reports import export_jobs
from tts.reports.export_jobs import expire_exports, run_pending_export_jobs
from tts.reports.datasets import dataset
from tts.reports.exporting import xlsx_file
from tts.reports.filters import Filters
from tts.reports.models import ExportFileChunk, ExportJob

RANGE = "from=2026-11-23&to=2026-11-23"


@pytest.fixture
def cases(ctx, daytime):
    with ctx():
        for n in range(1, 4):
            create_case(None, person_data(n, first_name="=Formula" if n == 1 else f"Sheet{n}",
                                          phone=f"07700 9002{n:02d}"), test_date=today(), symptom_onset_date=None)


@pytest.fixture
def small_limit(app, monkeypatch):
    """Anything over one row goes to the background (the real default is 100,000)."""
    monkeypatch.setitem(app.config, "TTS_EXPORT_INLINE_MAX_ROWS", 1)


def work(app) -> int:
    with app.app_context():
        return run_pending_export_jobs()


def sheet_rows(content: bytes) -> list[tuple]:
    from openpyxl import load_workbook

    return list(load_workbook(io.BytesIO(content), read_only=True)["data"].iter_rows(values_only=True))


def test_a_large_spreadsheet_is_prepared_in_the_background_then_downloaded(
        app, client, make_user, cases, small_limit, monkeypatch):
    monkeypatch.setattr(export_jobs, "CHUNK_BYTES", 1500)  # several chunks: the download joins them in order
    analyst = make_user("reporting")
    sign_in(client, analyst)
    offer = client.get(f"/reports/exports/cases.xlsx?{RANGE}")
    html = offer.get_data(as_text=True)
    assert offer.status_code == 200 and "This spreadsheet has 3 rows" in html and "Prepare the spreadsheet" in html
    form = {"dataset": "cases", "format": "xlsx", "from": "2026-11-23", "to": "2026-11-23", "identifiable": "false"}
    started = client.post("/reports/exports/jobs", data=form)
    assert started.status_code == 303
    job_url = started.headers["Location"]
    assert client.post("/reports/exports/jobs", data=form).headers["Location"] == job_url  # a double click: one job
    waiting = client.get(job_url).get_data(as_text=True)
    assert "Waiting for the worker to start: 3 rows to write" in waiting and "hx-trigger" in waiting
    assert client.get(job_url + "/file").status_code == 302  # not ready: back to the job page
    assert work(app) == 1 and work(app) == 0

    progress = client.get(job_url + "/progress", headers={"HX-Request": "true"})
    assert progress.headers["HX-Refresh"] == "true"  # finished: the page reloads to show the link
    ready = client.get(job_url).get_data(as_text=True)
    assert "Your spreadsheet is ready" in ready and "Download tts-cases-2026-11-23-2026-11-23.xlsx" in ready
    with client.get(job_url + "/file") as response:
        assert response.status_code == 200 and response.headers["X-Row-Count"] == "3"
        assert response.mimetype.endswith("spreadsheetml.sheet")
        assert int(response.headers["Content-Length"]) == len(response.data)
        content = response.data
    rows = sheet_rows(content)
    assert len(rows) == 4 and "pseudonymous_id" in rows[0] and "first_name" not in rows[0]
    listing = client.get(f"/reports/exports?{RANGE}").get_data(as_text=True)
    assert "Your spreadsheets" in listing and "Download" in listing

    with app.app_context():
        job = db.session.scalars(select(ExportJob)).one()
        assert job.status == "done" and job.chunk_count > 1 and job.byte_size == len(content)
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("export.%"))
                                    .order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["export.create", "export.download"]
        assert events[0].details["job_id"] == job.id and events[0].details["rows"] == 3
        assert events[1].actor_id == analyst["id"] and events[1].details["job_id"] == job.id


def test_only_the_requester_sees_the_job_or_its_file(app, client, make_user, api_token, cases, small_limit):
    sign_in(client, make_user("reporting"))
    job_url = client.post("/reports/exports/jobs", data={"dataset": "cases", "format": "xlsx", "from": "2026-11-23",
                                                         "to": "2026-11-23"}).headers["Location"]
    work(app)
    other = app.test_client()
    sign_in(other, make_user("reporting"))
    for path in ("", "/progress", "/file"):
        assert other.get(job_url + path).status_code == 404
    job_id = int(job_url.rsplit("/", 1)[1])
    headers, _ = api_token("supervisor")
    assert client.get(f"/api/v1/exports/jobs/{job_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/exports/jobs/{job_id}/file", headers=headers).status_code == 404


def test_identifiable_jobs_need_the_grant_and_keep_cells_as_text(app, client, make_user, cases, small_limit):
    analyst = make_user("reporting")
    sign_in(client, analyst)
    form = {"dataset": "cases", "format": "xlsx", "from": "2026-11-23", "to": "2026-11-23", "identifiable": "true"}
    assert client.post("/reports/exports/jobs", data=form).status_code == 403
    app.test_cli_runner().invoke(args=["users", "grant", analyst["email"], "export_identifiable"])
    job_url = client.post("/reports/exports/jobs", data=form).headers["Location"]
    work(app)
    with client.get(job_url + "/file") as response:
        rows = sheet_rows(response.data)
    names = [row[rows[0].index("first_name")] for row in rows[1:]]
    assert "'=Formula" in names  # the formula guard, as for a direct download


def test_bad_requests_are_refused_with_the_field_named(client, make_user, cases, small_limit):
    sign_in(client, make_user("reporting"))
    bad = client.post("/reports/exports/jobs", data={"dataset": "cases", "format": "xlsx", "from": "2026-13-01",
                                                     "to": "2026-11-23"})
    assert bad.status_code == 422 and "Use a date in the form YYYY-MM-DD" in bad.get_data(as_text=True)
    assert client.post("/reports/exports/jobs", data={"dataset": "people", "format": "xlsx"}).status_code == 404
    assert client.post("/reports/exports/jobs", data={"dataset": "cases", "format": "csv"}).status_code == 404
    direct = client.get("/reports/exports/cases.csv?from=yesterday")
    assert direct.status_code == 422 and "Use a date in the form YYYY-MM-DD" in direct.get_data(as_text=True)


def test_the_api_answers_202_with_a_job_to_poll(app, client, api_token, cases, small_limit):
    headers, _ = api_token("reporting")
    first = client.get(f"/api/v1/exports/cases.xlsx?{RANGE}", headers=headers)
    assert first.status_code == 202 and first.headers["Location"] == first.json["status_url"]
    assert first.json["status"] == "pending" and first.json["rows_total"] == 3 and first.json["download_url"] is None
    again = client.post("/api/v1/exports/jobs", headers=headers,
                        json={"dataset": "cases", "format": "xlsx", "from": "2026-11-23", "to": "2026-11-23"})
    assert again.status_code == 202 and again.json["job_id"] == first.json["job_id"]  # the same job
    assert client.get(first.json["status_url"] + "/file", headers=headers).status_code == 409
    work(app)
    status = client.get(first.json["status_url"], headers=headers).json
    assert status["status"] == "done" and status["percent"] == 100 and status["expires_at"]
    with client.get(status["download_url"], headers=headers) as response:
        assert response.status_code == 200 and len(sheet_rows(response.data)) == 4
    csv = client.get(f"/api/v1/exports/cases.csv?{RANGE}", headers=headers)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"  # CSV streams at once at any size
    refused = client.post("/api/v1/exports/jobs", headers=headers, json={"dataset": "people", "format": "csv",
                                                                        "from": 5, "identifiable": "yes"})
    assert refused.status_code == 422 and set(refused.json["errors"]) == {"dataset", "format", "from", "identifiable"}


def test_files_expire_and_stale_jobs_fail(app, client, api_token, cases, small_limit):
    headers, _ = api_token("reporting")
    url = client.get(f"/api/v1/exports/cases.xlsx?{RANGE}", headers=headers).json["status_url"]
    work(app)
    with app.app_context():
        assert expire_exports() == 0
        db.session.execute(update(ExportJob).values(finished_at=utcnow() - timedelta(hours=25)))
        stale = ExportJob(created_by_id=db.session.scalars(select(ExportJob.created_by_id)).first(), dataset="cases",
                          fmt="xlsx", date_from=today(), date_to=today(), status="running",
                          started_at=utcnow() - timedelta(hours=3))
        db.session.add(stale)
        db.session.flush()
        assert expire_exports() == 2
        assert db.session.scalar(select(func.count()).select_from(ExportFileChunk)) == 0
        assert db.session.get(ExportJob, stale.id).status == "failed"
        db.session.commit()
    assert client.get(url, headers=headers).json["status"] == "expired"
    assert client.get(url + "/file", headers=headers).status_code == 410


def test_a_failed_build_says_so(app, client, make_user, cases, small_limit, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_jobs, "xlsx_file", broken)
    sign_in(client, make_user("reporting"))
    job_url = client.post("/reports/exports/jobs", data={"dataset": "cases", "format": "xlsx", "from": "2026-11-23",
                                                         "to": "2026-11-23"}).headers["Location"]
    assert work(app) == 1
    html = client.get(job_url).get_data(as_text=True)
    assert "The spreadsheet could not be built" in html and "Start the export again" in html
    assert "disk full" not in html  # the details are for the log, not the page


def test_progress_is_reported_while_the_file_is_written(app, cases):
    seen = []
    with app.app_context():
        ds = dataset("cases", Filters(today(), today()), identifiable=False)
        path, rows = xlsx_file(ds, today(), progress=seen.append, every=1)
    assert rows == 3 and seen == [1, 2, 3]
    import os

    os.unlink(path)


@pytest.mark.no_rollback
def test_two_workers_never_build_the_same_job(fresh_database_url):
    """Four workers at once on three queued jobs: each job is built exactly once (SKIP LOCKED)."""
    import time_machine

    from tests.conftest import DAYTIME
    from tts.auth.models import User

    app = make_app(fresh_database_url("export_jobs"))
    built = []
    real_xlsx_file = export_jobs.xlsx_file

    def counting(ds, on, **kwargs):
        built.append(threading.get_ident())
        return real_xlsx_file(ds, on, **kwargs)

    with time_machine.travel(DAYTIME, tick=False), app.app_context():
        from tests.factories import PASSWORD_HASH

        db.session.add(User(email="analyst.export@council.example", name="Ada Sheet", role="reporting",
                            password_hash=PASSWORD_HASH, is_active=True))
        create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        for name in ("cases", "contacts", "attempts"):
            db.session.add(ExportJob(created_by_id=1, dataset=name, fmt="xlsx", date_from=today(), date_to=today(),
                                     status="pending"))
        db.session.commit()
    errors, done = [], []
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            with app.app_context():
                while run_pending_export_jobs():
                    done.append(1)
        except BaseException as exc:
            errors.append(exc)

    export_jobs.xlsx_file = counting
    try:
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        export_jobs.xlsx_file = real_xlsx_file
    assert not errors, errors
    assert len(built) == 3 and len(done) == 3
    with app.app_context():
        assert sorted(db.session.scalars(select(ExportJob.status))) == ["done", "done", "done"]
        db.session.remove()
        db.engine.dispose()


def test_the_requester_can_delete_the_file_at_once(app, client, make_user, api_token, cases, small_limit):
    analyst = make_user("reporting")
    sign_in(client, analyst)
    job_url = client.post("/reports/exports/jobs", data={"dataset": "cases", "format": "xlsx", "from": "2026-11-23",
                                                         "to": "2026-11-23"}).headers["Location"]
    other = app.test_client()
    sign_in(other, make_user("reporting"))
    assert other.post(job_url + "/delete").status_code == 404
    work(app)
    assert "Delete the file now" in client.get(job_url).get_data(as_text=True)
    deleted = client.post(job_url + "/delete", follow_redirects=True)
    assert "The file is deleted" in deleted.get_data(as_text=True)
    assert client.get(job_url + "/file").status_code == 410
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExportFileChunk)) == 0
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.delete")).one()
        assert event.actor_id == analyst["id"]

    headers, _ = api_token("reporting")
    job = client.get(f"/api/v1/exports/cases.xlsx?{RANGE}", headers=headers).json
    assert client.delete(job["status_url"], headers=headers).status_code == 409  # still being built
    work(app)
    gone = client.delete(job["status_url"], headers=headers)
    assert gone.status_code == 200 and gone.json["status"] == "expired"
    assert client.get(job["status_url"] + "/file", headers=headers).status_code == 410


@pytest.mark.no_rollback
def test_exports_read_from_the_reporting_database_when_one_is_set(fresh_database_url):
    """With TTS_REPORTING_DATABASE_URL (a read replica in production; the same database here) the export's
    count and rows are read through that engine, in a read-only transaction."""
    import time_machine
    from sqlalchemy import event

    from tests.conftest import DAYTIME
    from tts.reports.exporting import count_rows

    url = fresh_database_url("reporting")
    app = make_app(url, TTS_REPORTING_DATABASE_URL=url)
    with time_machine.travel(DAYTIME, tick=False), app.app_context():
        create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        db.session.commit()
        seen = []
        event.listen(db.engines["reporting"], "before_cursor_execute",
                     lambda conn, cursor, statement, *args: seen.append(statement))
        ds = dataset("cases", Filters(today(), today()), identifiable=False)
        assert count_rows(ds) == 1
        from tts.reports.copy_csv import copy_csv_chunks, uses_copy
        from tts.reports.exporting import csv_chunks

        text = b"".join(copy_csv_chunks(ds, today())) if uses_copy() else "".join(csv_chunks(ds, today())).encode()
        assert text.count(b"\r\n") == 2 and b"pseudonymous_id" in text
        assert any("count(" in s for s in seen)  # the count went through the reporting engine
        if db.engines["reporting"].dialect.name == "postgresql":
            assert any("READ ONLY" in s for s in seen) and any("max_parallel_workers_per_gather" in s for s in seen)
        else:
            assert any("FROM cases" in s for s in seen)
        path, rows = xlsx_file(ds, today())
        assert rows == 1
        import os

        os.unlink(path)
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
