"""The audit chain's cost to writers, and the stall a large import causes to the call queue, on PostgreSQL.

    .venv/bin/python bench/audit_chain.py pgbench [--seconds 15] [--clients 2,8,32]
    .venv/bin/python bench/audit_chain.py stall --rows 100000 [--code DIR]

`pgbench` makes a scratch database at the migration head and runs pgbench with one audited commit per
transaction, three ways: through the chain's lock as before (the audit_seal() function that migration
7c41e9a2d3b8 made, recreated for the run: lock, read the head, hash, insert, commit), as now (a plain INSERT
of an unsealed event), and a plain INSERT with the worker's sealer running beside it, which must keep up.
Then it times the sealer alone on the backlog.

`stall` makes a scratch database with the code in DIR (default this checkout; give a worktree of an older
commit to measure "before"), seeds a queue, and runs a claim+outcome loop in a process of its own while the
main process imports a ROWS-row file: it reports the loop's longest cycle and its p99 while the import
writes, and the import's own time and peak memory.

Results print as JSON; docs/benchmarks.md has the figures.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PGBENCH = next((p for p in ("/usr/lib/postgresql/15/bin/pgbench", "/usr/bin/pgbench") if Path(p).exists()), "pgbench")


def scratch_database(code: Path) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"tts_bench_chain_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(code)}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=code, env=env, check=True,
                   capture_output=True)
    return url


def drop(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def run_pgbench(url: str, script: str, clients: int, seconds: float) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    out = subprocess.run([PGBENCH, "-n", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 2)),
                          "-T", str(int(seconds)), "-f", handle.name, libpq(url)], capture_output=True, text=True)
    os.unlink(handle.name)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))


def pgbench(seconds: float, clients: list[int]) -> dict:
    import importlib.util

    from sqlalchemy import create_engine, func, select, text

    sys.path.insert(0, str(ROOT))
    from tts.audit.chain import content_parts
    from tts.audit.models import AuditEvent

    url = scratch_database(ROOT)
    engine = create_engine(url)
    spec = importlib.util.spec_from_file_location("old", ROOT / "migrations" / "versions" /
                                                  "20261204_7c41e9a2d3b8_audit_events_sealed_by_one_database_call.py")
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    with engine.begin() as connection:
        connection.execute(text(old.AUDIT_SEAL))
    from datetime import UTC, datetime

    at = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    head, middle, tail = content_parts(at=at, actor_id=None, action="bench.event", record_type=None, record_id=None,
                                       via="cli", ip=None, details={"n": 1})
    event = json.dumps([{"id": None, "at": at.isoformat(), "actor_id": None, "action": "bench.event",
                         "record_type": None, "record_id": None, "via": "cli", "ip": None, "details": {"n": 1},
                         "head": head, "middle": middle, "tail": tail}]).replace("'", "''")
    through_lock = f"SELECT * FROM audit_seal('{event}'::json);\n"
    unsealed = "INSERT INTO audit_events (at, action, via, details) VALUES (now(), 'bench.event', 'cli', '{\"n\": 1}');\n"
    results = {"clients": {}, "seconds": seconds, "machine_cores": os.cpu_count()}
    try:
        for n in clients:
            before = run_pgbench(url, through_lock, n, seconds)
            seal_all(url)  # the chain is sealed before each run
            sealer = subprocess.Popen([sys.executable, __file__, "_seal_loop", "--database-url", url], cwd=ROOT)
            time.sleep(1)
            with_sealer = run_pgbench(url, unsealed, n, seconds)
            time.sleep(1)  # one sealer interval after the writers stop
            with engine.connect() as connection:
                backlog = connection.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.hash.is_(None)))
            sealer.terminate()
            sealer.wait()
            seal_all(url)
            after = run_pgbench(url, unsealed, n, seconds)
            results["clients"][n] = {"through_the_chain_lock_tps": round(before), "unsealed_insert_tps": round(after),
                                     "unsealed_insert_with_sealer_running_tps": round(with_sealer),
                                     "unsealed_1s_after_the_writers_stopped": backlog}
            print(json.dumps({n: results["clients"][n]}), flush=True)
        # The sealer alone on whatever backlog is left, then on a fresh one of 200,000 events.
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO audit_events (at, action, via, details) SELECT now(), 'bench.event', "
                                    "'cli', '{\"n\": 1}' FROM generate_series(1, 200000)"))
            backlog = connection.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.hash.is_(None)))
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "_seal_loop", "--database-url", url, "--until-done"], cwd=ROOT,
                       check=True)
        elapsed = time.perf_counter() - started
        results["sealer_alone"] = {"events": backlog, "seconds": round(elapsed, 1),
                                   "events_per_second": round(backlog / elapsed)}
    finally:
        engine.dispose()
        drop(url)
    return results


def seal_all(url: str) -> None:
    subprocess.run([sys.executable, __file__, "_seal_loop", "--database-url", url, "--until-done"], cwd=ROOT, check=True)


def seal_loop(url: str, until_done: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from tts import create_app
    from tts.audit.sealer import seal_committed_events
    from tts.extensions import db

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        while True:
            sealed = seal_committed_events()
            db.session.remove()
            if until_done and not sealed:
                return
            if not sealed:
                time.sleep(app.config["TTS_AUDIT_SEAL_INTERVAL_SECONDS"])


# --- The stall an import causes to the call queue -----------------------------------------------------------

def stall(rows: int, code: Path, claims: bool = True) -> dict:
    url = scratch_database(code)
    env = {**os.environ, "PYTHONPATH": str(code)}
    try:
        subprocess.run([sys.executable, __file__, "_seed", "--database-url", url, "--code", str(code)], env=env,
                       check=True)
        marks = Path(tempfile.mkdtemp()) / "marks.json"
        marks.write_text("[]")
        loop = subprocess.Popen([sys.executable, __file__, "_claim_loop", "--database-url", url, "--code", str(code),
                                 "--out", str(marks)], env=env) if claims else None
        time.sleep(5 if claims else 0)  # the loop's steady state first
        imported = subprocess.run([sys.executable, __file__, "_import", "--database-url", url, "--code", str(code),
                                   "--rows", str(rows)], env=env, check=True, capture_output=True, text=True)
        result = json.loads(imported.stdout.strip().splitlines()[-1])
        if loop is not None:
            time.sleep(3)
            loop.terminate()
            loop.wait()
        cycles = json.loads(marks.read_text())
        start, end = result["started"], result["finished"]
        during = [c for c in cycles if c["end"] >= start and c["start"] <= end]
        before = [c for c in cycles if c["end"] < start]
        longest = max((c["end"] - c["start"] for c in during), default=0)
        lengths = sorted(c["end"] - c["start"] for c in during)
        steady = sorted(c["end"] - c["start"] for c in before)
        return {"code": str(code), "rows": rows, "import_seconds": round(end - start, 1),
                "import_peak_mb": result["peak_mb"], "import_status": result["status"],
                "claim_cycles_during_import": len(during),
                "claim_cycle_steady_p50_ms": round(steady[len(steady) // 2] * 1000, 1) if steady else None,
                "claim_cycle_during_import_p99_ms": round(lengths[int(0.99 * (len(lengths) - 1))] * 1000, 1) if lengths else None,
                "longest_claim_cycle_during_import_ms": round(longest * 1000, 1)}
    finally:
        drop(url)


def _code_app(url: str, code: Path):
    sys.path.insert(0, str(code))
    from tts import create_app

    return create_app("development", SQLALCHEMY_DATABASE_URI=url, TTS_CALLING_HOURS="00:00-23:59:59")


def seed(url: str, code: Path) -> None:
    """Two tracers and a queue of 3,000 cases, by import (fast in every version measured)."""
    sys.path.insert(0, str(ROOT))
    from bench.export_import import referral_csv

    app = _code_app(url, code)
    from tts.auth.services import create_user
    from tts.extensions import db
    from tts.imports.services import create_batch, run_import

    with app.app_context():
        create_user(None, email="stall.tracer@bench.example", name="Stall Tracer", role="supervisor",
                    password="a long bench password 1")
        actor = create_user(None, email="stall.importer@bench.example", name="Stall Importer", role="supervisor",
                            password="a long bench password 2")
        db.session.commit()
        text = "\n".join(line for n, line in enumerate(referral_csv(9000).splitlines()) if n == 0 or n % 3 == 1)
        run_import(actor, create_batch(actor, "seed.csv", text + "\n"))
        db.session.commit()
        from sqlalchemy import func, select

        from tts.callqueue.models import WorkItem

        print("queue:", db.session.scalar(select(func.count()).select_from(WorkItem)), file=sys.stderr)


def claim_loop(url: str, code: Path, out: Path) -> None:
    import signal

    app = _code_app(url, code)
    from sqlalchemy import select

    from tts.auth.models import User
    from tts.callqueue.outcomes import record_attempt
    from tts.callqueue.services import claim_next
    from tts.extensions import db

    cycles = []
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    with app.app_context():
        tracer = db.session.scalar(select(User).where(User.email == "stall.tracer@bench.example"))
        while not stopping:
            started = time.time()
            claim = claim_next(tracer)
            db.session.commit()
            if claim is None:
                time.sleep(0.05)
                continue
            for item in [claim.item, *claim.also_claimed]:
                record_attempt(tracer, item.id, outcome="reached", claim_token=item.claim_token)
                db.session.commit()
            cycles.append({"start": started, "end": time.time()})
    out.write_text(json.dumps(cycles))


def import_rows(url: str, code: Path, rows: int) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.export_import import referral_csv

    app = _code_app(url, code)
    app.config["TTS_IMPORT_MAX_ROWS"] = max(rows, app.config["TTS_IMPORT_MAX_ROWS"])
    from sqlalchemy import select

    from tts.auth.models import User
    from tts.extensions import db
    from tts.imports.services import create_batch, run_import

    text = referral_csv(rows)
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.email == "stall.importer@bench.example"))
        started = time.time()
        batch = run_import(actor, create_batch(actor, "bench.csv", text))
        db.session.commit()
        finished = time.time()
        print(json.dumps({"started": started, "finished": finished, "status": batch.status,
                          "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", choices=["pgbench", "stall", "_seal_loop", "_seed", "_claim_loop", "_import"])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", default="2,8,32")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--database-url")
    parser.add_argument("--until-done", action="store_true")
    parser.add_argument("--without-claims", action="store_true", help="the import alone (its own time and memory)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.job == "pgbench":
        print(json.dumps(pgbench(args.seconds, [int(c) for c in args.clients.split(",")]), indent=2))
    elif args.job == "stall":
        print(json.dumps(stall(args.rows, args.code.resolve(), not args.without_claims), indent=2))
    elif args.job == "_seal_loop":
        seal_loop(args.database_url, args.until_done)
    elif args.job == "_seed":
        seed(args.database_url, args.code)
    elif args.job == "_claim_loop":
        claim_loop(args.database_url, args.code, args.out)
    else:
        import_rows(args.database_url, args.code, args.rows)


if __name__ == "__main__":
    main()
