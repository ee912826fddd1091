"""Exports, imports and the outbox worker, measured on a benchmark database.

    .venv/bin/python bench/export_import.py export --database-url URL        # contacts CSV and XLSX vs COPY
    .venv/bin/python bench/export_import.py import --database-url URL --rows 100000 [--compare-rows 2000]
    .venv/bin/python bench/export_import.py worker --database-url URL --messages 20000

Each measured job runs in a fresh child process, so its peak memory (ru_maxrss) is its own.
"""
import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _app(url: str):
    from tts import create_app

    return create_app("development", SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False,
                      TTS_CALLING_HOURS="00:00-23:59")


def _signed_in(app, email: str):
    from bench.page_timings import sign_in

    client = app.test_client()
    sign_in(client, email)
    return client


def _range() -> str:
    from tts.clock import today

    return f"from={today() - timedelta(days=40)}&to={today()}"


def export_child(url: str, fmt: str) -> dict:
    app = _app(url)
    client = _signed_in(app, "bench.admin@bench.example")
    start = time.perf_counter()
    response = client.get(f"/reports/exports/contacts.{fmt}?{_range()}&identifiable=true", buffered=False)
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    elapsed = time.perf_counter() - start
    rows = int(response.headers["X-Row-Count"]) if "X-Row-Count" in response.headers else None
    return {"format": fmt, "rows": rows, "seconds": round(elapsed, 2), "bytes": size, "peak_mb": peak_mb()}


def copy_child(url: str) -> dict:
    """PostgreSQL's own COPY (same query) TO STDOUT: the physical limit of getting these rows out."""
    from sqlalchemy.dialects import postgresql

    from tts.clock import today
    from tts.extensions import db
    from tts.reports.datasets import dataset
    from tts.reports.filters import Filters

    app = _app(url)
    with app.app_context():
        ds = dataset("contacts", Filters(today() - timedelta(days=40), today()), identifiable=True)
        sql = str(ds.statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        raw = db.engine.raw_connection()
        start = time.perf_counter()
        size = rows = 0
        with raw.cursor() as cur:
            with cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    size += len(block)
                    rows += bytes(block).count(b"\n")
        elapsed = time.perf_counter() - start
        raw.close()
    return {"format": "COPY", "rows": rows, "seconds": round(elapsed, 2), "bytes": size, "peak_mb": peak_mb()}


def xlsx_job_child(url: str, days: int) -> dict:
    """A contacts spreadsheet as users get one that size: a background job run by the worker's function
    (rows read, XLSX written in constant memory, the file stored in the database in 1 MB chunks)."""
    from tts.auth.models import User
    from tts.clock import today
    from tts.extensions import db
    from tts.reports.export_jobs import run_pending_export_jobs, start_job
    from tts.reports.datasets import dataset
    from tts.reports.exporting import count_rows
    from tts.reports.filters import Filters
    from tts.reports.models import ExportJob

    app = _app(url)
    with app.app_context():
        actor = db.session.query(User).filter_by(email="bench.admin@bench.example").one()
        f = Filters(today() - timedelta(days=days), today())
        total = count_rows(dataset("contacts", f, identifiable=True))
        job = start_job(actor, "contacts", "xlsx", f, True, total)
        db.session.commit()
        job_id = job.id
        start = time.perf_counter()
        while run_pending_export_jobs():  # this job (and any left queued by an earlier run)
            pass
        elapsed = time.perf_counter() - start
        job = db.session.get(ExportJob, job_id)
        result = {"format": "xlsx (background job)", "status": job.status, "rows": job.rows_total,
                  "seconds": round(elapsed, 2), "bytes": job.byte_size, "peak_mb": peak_mb()}
        db.session.delete(job)  # and its chunks (ON DELETE CASCADE)
        db.session.commit()
    return result


def xlsxwriter_child(url: str, days: int = 40) -> dict:
    """The same rows written with XlsxWriter's constant-memory mode alone (rows fetched first, not timed)."""
    import tempfile

    import xlsxwriter

    from tts.clock import today
    from tts.extensions import db
    from tts.reports.datasets import dataset
    from tts.reports.exporting import rows
    from tts.reports.filters import Filters

    app = _app(url)
    with app.app_context():
        ds = dataset("contacts", Filters(today() - timedelta(days=days), today()), identifiable=True)
        data = list(rows(ds, today()))
        db.session.remove()
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    start = time.perf_counter()
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet("data")
    sheet.write_row(0, 0, ds.columns)
    for n, values in enumerate(data, start=1):
        sheet.write_row(n, 0, values)
    book.close()
    elapsed = time.perf_counter() - start
    os.unlink(path)
    return {"format": "XlsxWriter alone", "rows": len(data), "seconds": round(elapsed, 2)}


def import_child(url: str, n: int, set_based: bool = True) -> dict:
    from tts.auth.models import User
    from tts.extensions import db
    from tts.imports.services import create_batch, run_import

    text = referral_csv(n)
    app = _app(url)
    app.config["TTS_IMPORT_SET_BASED"] = set_based
    app.config["TTS_IMPORT_MAX_ROWS"] = max(n, app.config["TTS_IMPORT_MAX_ROWS"])  # --rows beyond the limit: measured
    with app.app_context():
        actor = db.session.query(User).filter_by(email="bench.supervisor@bench.example").one()
        start = time.perf_counter()
        batch = create_batch(actor, "bench.csv", text)
        run_import(actor, batch)
        db.session.commit()
        elapsed = time.perf_counter() - start
        result = {"mode": "set-based" if set_based else "row by row", "rows": n, "status": batch.status, "imported": batch.rows_imported, "errors": len(batch.errors or []),
                  "seconds": round(elapsed, 2), "rows_per_second": round(n / elapsed), "peak_mb": peak_mb()}
    return result


def referral_csv(n: int) -> str:
    """n rows in the national referral format: one case per three rows, two contacts each."""
    import random

    from tts.clock import today
    from tts.imports.services import COLUMNS

    rng = random.Random(7)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    stamp = int(time.time())
    for i in range(n):
        case_no = i // 3
        is_case = i % 3 == 0
        row = {c: "" for c in COLUMNS}
        row.update({
            "record_type": "case" if is_case else "contact",
            "referral_id": f"B{stamp}-{i}",
            "first_name": rng.choice(["Ada", "Bram", "Cleo", "Dev", "Ember"]),
            "last_name": rng.choice(["Fairweather", "Kestrel", "Moorcroft", "Nettlefold"]),
            "phone": f"07700 900{rng.randint(0, 999):03d}",
            "postcode": f"S{rng.randint(1, 20)} {rng.randint(1, 9)}AB",
            "address": f"{rng.randint(1, 200)} Sample Street",
        })
        if is_case:
            row["test_date"] = str(today() - timedelta(days=1))
            row["date_of_birth"] = str(today() - timedelta(days=365 * rng.randint(18, 80) + rng.randint(0, 364)))
        else:
            row["case_referral_id"] = f"B{stamp}-{case_no * 3}"
            row["relationship"] = rng.choice(["household", "close"])
            row["last_exposure_date"] = str(today() - timedelta(days=2))
        writer.writerow(row)
    return out.getvalue()


def worker_child(url: str, seconds: float) -> dict:
    from tts.extensions import db
    from tts.telephony.services import deliver_due

    app = _app(url)
    sent = 0
    start = time.perf_counter()
    with app.app_context():
        while time.perf_counter() - start < seconds:
            n = deliver_due(limit=50)
            sent += n
            if n == 0:
                break
        db.session.remove()
    elapsed = time.perf_counter() - start
    return {"sent": sent, "seconds": round(elapsed, 2)}


def queue_messages(url: str, n: int) -> None:
    from sqlalchemy import text

    from tts.extensions import db

    app = _app(url)
    with app.app_context():
        db.session.execute(text(
            "INSERT INTO messages (person_id, direction, channel, trigger, to_number, body, status, attempts, "
            "needs_lookup, next_attempt_at, created_at) "
            "SELECT id, 'outbound', 'sms', 'introduction', '+447700900123', 'Benchmark text', 'queued', 0, false, "
            "now(), now() FROM people ORDER BY id LIMIT :n"), {"n": n})
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", choices=["export", "import", "worker", "_export", "_copy", "_xlsxwriter", "_import",
                                        "_worker", "_xlsx_job"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--fmt", default="csv")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--compare-rows", type=int, default=2000,
                        help="import: also this many rows one service call a row, the old path (0: skip)")
    parser.add_argument("--row-by-row", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--out", default=None)
    parser.add_argument("--xlsx-days", type=int, default=7, help="the spreadsheet's range (Excel holds 1,048,575 rows)")
    args = parser.parse_args()
    url = args.database_url
    if args.job == "_export":
        print(json.dumps(export_child(url, args.fmt)))
    elif args.job == "_copy":
        print(json.dumps(copy_child(url)))
    elif args.job == "_xlsxwriter":
        print(json.dumps(xlsxwriter_child(url, args.xlsx_days)))
    elif args.job == "_xlsx_job":
        print(json.dumps(xlsx_job_child(url, args.xlsx_days)))
    elif args.job == "_import":
        print(json.dumps(import_child(url, args.rows, set_based=not args.row_by_row)))
    elif args.job == "_worker":
        print(json.dumps(worker_child(url, args.seconds)))
    elif args.job == "export":
        copy = child("_copy", "--database-url", url)
        csv_run = child("_export", "--database-url", url, "--fmt", "csv")
        result = {"copy": copy, "csv": csv_run,
                  "csv_share_of_copy": round(copy["seconds"] / csv_run["seconds"], 2)}
        if args.rows:
            days = ("--xlsx-days", str(args.xlsx_days))
            xlsx_run = child("_xlsx_job", "--database-url", url, *days)
            alone = child("_xlsxwriter", "--database-url", url, *days)
            result.update({"xlsx": xlsx_run, "xlsxwriter_alone": alone,
                           "xlsx_share_of_xlsxwriter": round(alone["seconds"] / xlsx_run["seconds"], 2)})
        for key in ("copy", "csv", "xlsx"):
            if key in result and result[key].get("rows"):
                result[key]["rows_per_second"] = round(result[key]["rows"] / result[key]["seconds"])
        _save(args, "export", result)
    elif args.job == "import":
        result = {"set_based": child("_import", "--database-url", url, "--rows", str(args.rows))}
        if args.compare_rows:
            result["row_by_row"] = child("_import", "--database-url", url, "--rows", str(args.compare_rows),
                                         "--row-by-row")
        _save(args, "import", result)
    elif args.job == "worker":
        result = {}
        for workers in (1, 4):
            queue_messages(url, args.messages)
            procs = [subprocess.Popen([sys.executable, __file__, "_worker", "--database-url", url], cwd=ROOT,
                                      stdout=subprocess.PIPE, text=True) for _ in range(workers)]
            outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
            sent = sum(o["sent"] for o in outs)
            seconds = max(o["seconds"] for o in outs)
            result[f"{workers}_workers"] = {"sent": sent, "seconds": seconds, "per_second": round(sent / seconds)}
        _save(args, "worker", result)


def _save(args, name: str, result: dict) -> None:
    out = Path(args.out or ROOT / "bench" / "results" / f"{name}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
