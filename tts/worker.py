"""`flask worker`: delivers the outbox, runs the periodic scanners (each under a lock) and the slow jobs on a
lane of their own. It serves every feature, so it sits at the bottom of the app, inside none of them."""
import logging
import os
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tts.extensions import db

log = logging.getLogger(__name__)

# Each lane's jobs (declared by the features with tts.jobs.job), in the order a pass runs them.
PASS_LANE = ("sent", "letters_emailed", "imports", "escalated", "reconciled", "checkins_missed", "anonymised")
SLOW_LANE = ("simulations", "kpis_refreshed", "exports", "exports_expired", "idempotency_pruned", "completed", "outbreak_closures")
AUDIT_LANE = ("audit_sealed",)


def _run_lane(names: tuple[str, ...]) -> dict:
    """Each job in turn. A job that did something (or failed) is logged as one JSON line: its name, how much it
    did (texts sent, items escalated: counts only, nothing personal) and how long it took."""
    import time

    from tts.jobs import JOBS, run_job
    from tts.ops.metrics import job_ran

    done = {}
    for name in names:
        started = time.perf_counter()
        try:
            done[name] = int(run_job(JOBS[name]) or 0)
        except Exception:
            job_ran(name, "failed")
            log.warning("job %s failed", name, extra={"fields": {
                "event": "job", "job": name, "status": "failed",
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)}})
            raise
        job_ran(name, "done")
        if done[name]:
            # The sealer runs every second: its lines are for debugging; tts_audit_unsealed is its figure.
            log.log(logging.DEBUG if name == "audit_sealed" else logging.INFO, "job %s: %s", name, done[name], extra={"fields": {
                "event": "job", "job": name, "status": "done", "count": done[name],
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)}})
    return done


def run_once(slow: bool = True) -> dict:
    """One pass: texts out, imports, the scanners; with `slow`, also the long jobs (`run_slow_jobs`). Each
    job is its own transaction (tts/jobs.py)."""
    result = {**_run_lane(PASS_LANE), **{name: 0 for name in SLOW_LANE}, **{name: 0 for name in AUDIT_LANE}}
    if slow:  # `worker --once`: everything, the audit chain's sealer included
        result.update(run_slow_jobs())
        result.update(seal_audit_events())
    return result


def seal_audit_events() -> dict:
    """Seal the audit events committed since the last pass into the chain (tts/audit/sealer.py)."""
    return _run_lane(AUDIT_LANE)


def run_slow_jobs() -> dict:
    """Jobs that take minutes (a capacity planner run, a large spreadsheet export) or tens of seconds (the
    KPI figures at national scale). The running worker does them on a lane of their own, so texts never
    wait behind them."""
    return _run_lane(SLOW_LANE)


def lower_priority(niceness: int) -> bool:
    """Give the calling thread a lower CPU priority (Linux schedules threads one by one): the slow lane's
    KPI figures and spreadsheets then take the CPU the web processes and the texts leave over, instead of
    a core for tens of seconds while tracers wait. False where the platform has no per-thread priority."""
    if niceness <= 0 or not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except OSError:
        return False
    return True


def _lane(app: Flask, stop: threading.Event, step, name: str, niceness: int = 0, interval: float | None = None) -> None:
    from tts.jobs import lane_finished

    interval = app.config["TTS_WORKER_INTERVAL_SECONDS"] if interval is None else interval
    lower_priority(niceness)
    while not stop.is_set():
        with app.app_context():
            try:
                step()  # each job that did something logs its own line (_run_lane)
                lane_finished(name)
            except Exception:
                db.session.rollback()
                log.exception("worker %s pass failed; retrying", name)
        stop.wait(interval)


def run_forever(app: Flask, stop: threading.Event) -> None:
    """Texts and scanners on this thread; the slow jobs on a second one, so a planner run or a KPI
    computation never holds up a text; the audit chain's sealer on a third, every second."""
    slow = threading.Thread(target=_lane, args=(app, stop, run_slow_jobs, "slow",
                                                app.config.get("TTS_SLOW_JOBS_NICE", 10)),
                            name="tts-worker-slow", daemon=True)
    slow.start()
    sealer = threading.Thread(target=_lane, args=(app, stop, seal_audit_events, "audit", 0,
                                                  app.config["TTS_AUDIT_SEAL_INTERVAL_SECONDS"]),
                              name="tts-worker-audit", daemon=True)
    sealer.start()
    _lane(app, stop, lambda: run_once(slow=False), "pass")
    slow.join(timeout=5)
    sealer.join(timeout=5)


def start_inline(app: Flask) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(app, stop), name="tts-worker", daemon=True).start()
    return stop


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver everything due, run the scanners once, and exit.")
@with_appcontext
def worker_command(once: bool):
    """Deliver queued texts and run the queue's periodic scanners until stopped."""
    if once:
        click.echo(run_once())
        return
    import signal

    app = current_app._get_current_object()
    click.echo("Worker running; Ctrl+C to stop")
    stop = threading.Event()

    def finish(signum, _frame):
        # systemd's stop (SIGTERM) or Ctrl+C: each lane finishes the pass it is in (a text being sent is sent
        # and put on record), then the worker exits. Nothing is cut off half-way.
        log.info("worker stopping after its current pass (signal %s)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    run_forever(app, stop)


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve_command(host: str, port: int):
    """Run the development server with the worker inside the same process (what `make run` uses)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    start_inline(app)
    click.echo(f"Serving on http://{host}:{port} with the outbox worker running in this process")
    run_simple(host, port, app, threaded=True, use_reloader=False)
