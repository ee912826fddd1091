"""Load test against the real stack: gunicorn + PostgreSQL on this machine, N simulated tracers.

    .venv/bin/python bench/load_test.py --database-url URL [--tracers 10,50,200] [--seconds 30]
                                        [--gunicorn-workers W] [--gunicorn-threads T] [--repeat 3] [--no-worker]
                                        [--with-export] [--reporting-url URL] [--max-companions N]
                                        [--one-request-per-outcome]

Load a preset first (bench/generate.py; national-peak gives a queue deep enough for every run). Each
simulated tracer loops "claim next, record an outcome (reached 40%, no answer 30%, voicemail 20%,
callback 10%), and after one reached call in ten add a contact", through the API v1 with its own bearer
token. A "no answer" or "voicemail" on a call with several people claimed onto it is one request for them
all (POST /api/v1/calls/attempts); a conversation is recorded person by person. Two supervisors refresh the dashboard panel every 2 seconds and an analyst loads the KPI page
every 5 seconds, signed in through the web pages (password and two-factor code). The outbox worker runs
beside gunicorn, as deployed (it sends the texts outcomes queue, and keeps the KPI figures fresh). Reported per run:
completed claim+outcome cycles per second, p50/p95/p99 latency per endpoint, errors, and the number of
items held by two tracers at once (must be 0). Then a bare SQL loop of claim (SKIP LOCKED) plus complete
on the same tables, with the same concurrency, gives the physical limit.
"""
import argparse
import json
import multiprocessing
import os
import random
import re
import runpy
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_PASSWORD, bench_totp_secret  # noqa: E402

OUTCOMES = ["reached"] * 4 + ["no_answer"] * 3 + ["voicemail"] * 2 + ["callback_requested"]
CALL_OUTCOMES = True  # --one-request-per-outcome sets it False (the figures before 2026-12-02's third session)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stack_env(database_url: str, extra_env: dict | None = None) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "TTS_CONFIG": "development", "SECRET_KEY": "bench-only",
            "TTS_CALLING_HOURS": "00:00-23:59", "TTS_SIMULATED_GATEWAY_LATENCY_MS": "0", **(extra_env or {})}


def server_log():
    """The app's warnings (gunicorn's and the worker's stderr) go to bench/results/load_test_server.log,
    not the report on stdout; a run that went strangely can be read back there."""
    path = ROOT / "bench" / "results" / "load_test_server.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a")


def start_worker(database_url: str, extra_env: dict | None = None):
    """The outbox worker, as deployed beside the web processes: one pass first (it computes the KPI page's
    default figures, as a running service would have long before), then running for the whole test."""
    env = stack_env(database_url, extra_env)
    started = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "worker", "--once"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    warm = round(time.perf_counter() - started, 1)
    proc = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=server_log())
    return proc, warm


def start_gunicorn(database_url: str, workers: int, threads: int, extra_env: dict | None = None):
    port = free_port()
    env = stack_env(database_url, extra_env)
    # gunicorn.conf.py (read from ROOT, as in production) sets the worker class and the keep-alive.
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--workers", str(workers), "--threads", str(threads),
                             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                            cwd=ROOT, env=env, stderr=server_log())
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(base + "/login", timeout=2).status_code == 200:
                return proc, base
        except requests.RequestException:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def api_tokens(database_url: str, count: int) -> list[str]:
    from sqlalchemy import select

    from tts import create_app
    from tts.auth.models import ApiToken, User
    from tts.auth.services import issue_api_token
    from tts.extensions import db

    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        users = db.session.scalars(select(User).where(User.email.like("bench.tracer%@bench.example"))
                                   .order_by(User.id).limit(count)).all()
        db.session.query(ApiToken).filter(ApiToken.user_id.in_([u.id for u in users])).delete()
        tokens = [issue_api_token(None, u, 1)[1] for u in users]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return tokens


def web_session(base: str, email: str) -> requests.Session:
    import pyotp

    s = requests.Session()

    def csrf(html: str) -> str:
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    page = s.get(base + "/login").text
    r = s.post(base + "/login", data={"csrf_token": csrf(page), "email": email, "password": BENCH_PASSWORD},
               allow_redirects=False)
    assert r.status_code == 302, r.text[:300]
    page = s.get(base + "/login/code").text
    r = s.post(base + "/login/code", data={"csrf_token": csrf(page), "code": pyotp.TOTP(bench_totp_secret(email)).now()},
               allow_redirects=False)
    assert r.status_code == 302, r.text[:500]
    return s


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.cycles = 0
        self.outcomes = 0  # people whose outcome was recorded (a cycle's claim plus its companions)
        self.empty = 0
        self.holds: list[tuple[int, int, float, float]] = []  # item, tracer, claimed, finished
        self.export_rows = 0
        self.export_seconds = 0.0

    def created(self, what: str, response) -> bool:
        """True for a 201; a 4xx is counted as an error here (5xx and dropped connections already are)."""
        if response is not None and response.status_code == 201:
            return True
        if response is not None and response.status_code < 500:
            with self.lock:
                self.errors[f"{what} answered {response.status_code}"] += 1
        return False

    def timed(self, name: str, fn):
        start = time.perf_counter()
        try:
            response = fn()
        except requests.RequestException:
            with self.lock:
                self.errors[name + " (connection)"] += 1
            return None
        elapsed = time.perf_counter() - start
        with self.lock:
            self.latency[name].append(elapsed)
            if response.status_code >= 500:
                self.errors[f"{name} {response.status_code}"] += 1
        return response


def tracer_loop(base: str, token: str, n: int, rec: Recorder, stop: threading.Event, rng: random.Random) -> None:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    while not stop.is_set():
        claimed_at = time.monotonic()
        r = rec.timed("POST /api/v1/queue/claim", lambda: s.post(base + "/api/v1/queue/claim", timeout=30))
        if r is None or r.status_code != 200:
            if r is not None and r.status_code == 204:
                with rec.lock:
                    rec.empty += 1
                    if r.headers.get("X-Calling-Resumes-At"):
                        rec.errors["claim answered 204 outside calling hours"] += 1
                time.sleep(0.5)
            elif r is not None and r.status_code not in (200, 204):
                with rec.lock:
                    rec.errors[f"claim answered {r.status_code}"] += 1
            continue
        body = r.json()
        items = [body["work_item"], *body["also_claimed"]]
        outcome = rng.choice(OUTCOMES)
        ok = True
        if CALL_OUTCOMES and outcome in ("no_answer", "voicemail") and len(items) > 1:
            # The number did not answer: one outcome for everyone on the call, in one request.
            call = {"outcome": outcome, "notes": "Benchmark call",
                    "items": [{"id": i["id"], "claim_token": i["claim_token"]} for i in items]}
            ok = rec.created("call attempt", rec.timed("POST /api/v1/calls/attempts", lambda: s.post(
                f"{base}/api/v1/calls/attempts", json=call, timeout=30)))
            items_each = []
        else:
            items_each = items
        for item in items_each:
            payload = {"outcome": outcome, "claim_token": item["claim_token"], "notes": "Benchmark call"}
            if outcome == "callback_requested":
                payload["callback_at"] = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
            ok = rec.created("attempt", rec.timed("POST /api/v1/work-items/{id}/attempts", lambda: s.post(
                f"{base}/api/v1/work-items/{item['id']}/attempts", json=payload, timeout=30))) and ok
        finished = time.monotonic()
        with rec.lock:
            for item in items:
                rec.holds.append((item["id"], n, claimed_at, finished))
            if ok:
                rec.cycles += 1
                rec.outcomes += len(items)
        if ok and outcome == "reached" and items[0]["subject_type"] == "case" and rng.random() < 0.1:
            contact = {"person": {"first_name": "Bench", "last_name": f"Contact{rng.randint(1, 99999)}",
                                  "phone": f"07700 900{rng.randint(0, 999):03d}"},
                       "relationship": "close", "last_exposure_date": datetime.now(UTC).date().isoformat()}
            rec.timed("POST /api/v1/cases/{id}/contacts",
                      lambda: s.post(f"{base}/api/v1/cases/{items[0]['subject_id']}/contacts", json=contact,
                                     timeout=30))


def page_loop(session: requests.Session, base: str, path: str, name: str, every: float, rec: Recorder,
              stop: threading.Event) -> None:
    while not stop.is_set():
        r = rec.timed(name, lambda: session.get(base + path, timeout=60))
        if r is not None and r.status_code != 200:
            with rec.lock:
                rec.errors[f"{name} answered {r.status_code}"] += 1
        stop.wait(every)


def export_loop(cookies: dict, base: str, stop, results) -> None:
    """An analyst downloading the contacts CSV of the last 40 days, again and again, for the whole run: the
    "report during the queue's busiest time" case. It runs in a process of its own (an analyst's browser is
    on another machine): in a thread of the load generator it would take the simulated tracers' Python
    time and count against the queue. Rows streamed are counted; a download still running when the run
    ends is cut off (its rows count)."""
    from datetime import date

    session = requests.Session()
    session.cookies.update(cookies)
    span = f"from={date.today() - timedelta(days=40)}&to={date.today()}"
    rows, seconds, errors = 0, 0.0, Counter()
    while not stop.is_set():
        started = time.perf_counter()
        try:
            with session.get(f"{base}/reports/exports/contacts.csv?{span}", stream=True, timeout=600) as r:
                if r.status_code != 200:
                    errors[f"export answered {r.status_code}"] += 1
                    stop.wait(5)
                    continue
                for chunk in r.iter_content(chunk_size=1 << 16):
                    rows += chunk.count(b"\n")
                    if stop.is_set():
                        break
        except requests.RequestException:
            errors["export (connection)"] += 1
        seconds += time.perf_counter() - started
    results.put((rows, seconds, dict(errors)))


def double_holds(holds: list[tuple[int, int, float, float]]) -> int:
    by_item = defaultdict(list)
    for item, tracer, start, end in holds:
        by_item[item].append((start, end, tracer))
    doubles = 0
    for spans in by_item.values():
        spans.sort()
        for (s1, e1, t1), (s2, e2, t2) in zip(spans, spans[1:]):
            if t1 != t2 and s2 < e1:
                doubles += 1
    return doubles


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000


def run(base: str, tokens: list[str], tracers: int, seconds: float, supervisors: list, analyst,
        exporter: requests.Session | None = None) -> dict:
    rec = Recorder()
    stop = threading.Event()
    threads = [threading.Thread(target=tracer_loop, args=(base, tokens[i], i, rec, stop, random.Random(i)))
               for i in range(tracers)]
    threads += [threading.Thread(target=page_loop, args=(s, base, "/supervise/panel", "GET /supervise/panel", 2, rec,
                                                         stop)) for s in supervisors]
    threads.append(threading.Thread(target=page_loop, args=(analyst, base, "/reports/", "GET /reports/ (KPIs)", 5,
                                                            rec, stop)))
    export_process = None
    if exporter is not None:
        context = multiprocessing.get_context("spawn")
        export_stop, export_results = context.Event(), context.Queue()
        export_process = context.Process(target=export_loop, args=(exporter.cookies.get_dict(), base, export_stop,
                                                                   export_results))
        export_process.start()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    if export_process is not None:
        export_stop.set()
        rec.export_rows, rec.export_seconds, export_errors = export_results.get(timeout=120)
        rec.errors.update(export_errors)
        export_process.join(timeout=30)
    return {
        "tracers": tracers, "seconds": seconds, "cycles": rec.cycles, "export_running": exporter is not None,
        "export_rows_per_second": round(rec.export_rows / rec.export_seconds) if rec.export_seconds else None,
        "cycles_per_second": round(rec.cycles / seconds, 1),
        "outcomes_per_second": round(rec.outcomes / seconds, 1),
        "queue_empty_answers": rec.empty,
        "errors": dict(rec.errors), "error_count": sum(rec.errors.values()),
        "double_handouts": double_holds(rec.holds),
        "latency_ms": {name: {"n": len(v), "p50": round(pct(v, 0.5), 1), "p95": round(pct(v, 0.95), 1),
                              "p99": round(pct(v, 0.99), 1)} for name, v in sorted(rec.latency.items())},
    }


def bare_sql(database_url: str, concurrency: int, seconds: float) -> dict:
    """The physical limit: claim (SKIP LOCKED) + complete in plain SQL, one connection per thread."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    dsn = f"host={url.host or '127.0.0.1'} port={url.port or 5432} dbname={url.database} user={url.username or 'postgres'}"
    claim = ("UPDATE work_items SET status = 'claimed', claimed_by_id = %s, claimed_at = now(), "
             "claimed_until = now() + interval '20 minutes' WHERE id = (SELECT id FROM work_items "
             "WHERE status IN ('open', 'claimed') AND (status = 'open' OR claimed_until < now()) AND due_at <= now() "
             "ORDER BY band, due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id")
    complete = "UPDATE work_items SET status = 'done', outcome = 'reached', closed_at = now() WHERE id = %s"
    count = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def loop(n: int) -> None:
        with psycopg.connect(dsn, autocommit=False) as conn:
            while not stop.is_set():
                with conn.cursor() as cur:
                    cur.execute(claim, (n,))
                    row = cur.fetchone()
                conn.commit()
                if row is None:
                    time.sleep(0.05)
                    continue
                with conn.cursor() as cur:
                    cur.execute(complete, (row[0],))
                conn.commit()
                with lock:
                    count[0] += 1

    threads = [threading.Thread(target=loop, args=(1 + i % 200,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return {"concurrency": concurrency, "cycles": count[0], "cycles_per_second": round(count[0] / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tracers", default="10,50,200")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--repeat", type=int, default=1)
    layout = runpy.run_path(str(ROOT / "gunicorn.conf.py"))  # the deployed defaults (TTS_WEB_WORKERS/THREADS)
    parser.add_argument("--gunicorn-workers", type=int, default=layout["workers"])
    parser.add_argument("--gunicorn-threads", type=int, default=layout["threads"])
    parser.add_argument("--bare-sql-seconds", type=float, default=10)
    parser.add_argument("--no-worker", action="store_true", help="Run without the outbox worker beside gunicorn.")
    parser.add_argument("--with-export", action="store_true",
                        help="Run each tracer count twice: as usual, then with an analyst downloading the contacts "
                             "CSV throughout (queue figures with and without an export running).")
    parser.add_argument("--reporting-url", default=None,
                        help="TTS_REPORTING_DATABASE_URL for the stack: a read replica that exports and the KPI "
                             "figures read from (docs/benchmarks.md sets one up at a low CPU priority).")
    parser.add_argument("--one-request-per-outcome", action="store_true",
                        help="Record even a whole call's 'no answer' one person at a time, as before "
                             "POST /api/v1/calls/attempts existed.")
    parser.add_argument("--max-companions", type=int, default=None,
                        help="TTS_MAX_COMPANIONS for the stack (default 5). The fictional numbers put ~100 people "
                             "on each; 1 gives calls of one or two people, as real numbers would.")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load_test.json"))
    args = parser.parse_args()
    extra = {"TTS_REPORTING_DATABASE_URL": args.reporting_url} if args.reporting_url else {}
    if args.max_companions is not None:
        extra["TTS_MAX_COMPANIONS"] = str(args.max_companions)
    global CALL_OUTCOMES
    CALL_OUTCOMES = not args.one_request_per_outcome

    counts = [int(n) for n in args.tracers.split(",")]
    tokens = api_tokens(args.database_url, max(counts))
    worker, warm = start_worker(args.database_url, extra) if not args.no_worker else (None, None)
    proc, base = start_gunicorn(args.database_url, args.gunicorn_workers, args.gunicorn_threads, extra)
    results = {"machine": machine(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
               "gunicorn": {"workers": args.gunicorn_workers, "threads": args.gunicorn_threads},
               "reporting_replica": bool(args.reporting_url), "max_companions": args.max_companions or 5,
               "call_outcomes_in_one_request": CALL_OUTCOMES,
               "worker": {"running": worker is not None, "first_pass_seconds": warm}, "runs": []}
    try:
        supervisors = [web_session(base, "bench.supervisor@bench.example")]
        supervisors.append(supervisors[0])  # two refreshing tabs
        analyst = web_session(base, "bench.reporting@bench.example")
        exporter = web_session(base, "bench.admin@bench.example") if args.with_export else None
        for n in counts:
            for r in range(args.repeat):
                for export in ([None, exporter] if exporter is not None else [None]):
                    result = run(base, tokens, n, args.seconds, supervisors, analyst, export)
                    result["repeat"] = r + 1
                    results["runs"].append(result)
                    print(json.dumps({k: result[k] for k in ("tracers", "export_running", "cycles_per_second", "outcomes_per_second",
                                                             "error_count", "double_handouts")}), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    results["bare_sql"] = [bare_sql(args.database_url, 50, args.bare_sql_seconds)]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


def machine() -> dict:
    import platform

    mem = 0
    try:
        mem = int(open("/proc/meminfo").read().split()[1]) // 1024 // 1024
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gb": mem, "python": platform.python_version(),
            "postgres": subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()}


if __name__ == "__main__":
    main()
