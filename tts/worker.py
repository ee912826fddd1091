"""`flask worker`: delivers the outbox, runs the periodic scanners (each under a lock) and the slow jobs on a
lane of their own. It serves every feature, so it sits at the bottom of the app, inside none of them."""
import logging
import os
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from tts.extensions import db

log = logging.getLogger(__name__)
# Advisory lock keys, so that with several workers only one runs each scanner at a time.
LOCK_SWEEP, LOCK_RECONCILE, LOCK_RETENTION = 7211, 7212, 7213


def _scanner_lock(key: int) -> bool:
    if db.session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE already serialises writers
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))


def run_once(slow: bool = True) -> dict:
    """One pass: texts out, imports, the scanners; with `slow`, also the long jobs (`run_slow_jobs`)."""
    from tts.callqueue.services import escalate_overdue
    from tts.imports.services import run_pending_imports
    from tts.people import retention
    from tts.telephony.services import deliver_due, reconcile

    sent = deliver_due()
    imported = run_pending_imports()
    swept = 0
    if _scanner_lock(LOCK_SWEEP):
        swept = escalate_overdue()
    db.session.commit()
    reconciled = reconcile() if _scanner_lock(LOCK_RECONCILE) else 0
    db.session.commit()
    anonymised = 0
    if _scanner_lock(LOCK_RETENTION) and retention.due_today():
        anonymised = len(retention.run().people)
    db.session.commit()
    result = {"sent": sent, "escalated": swept, "reconciled": reconciled, "imports": imported,
              "anonymised": anonymised, "simulations": 0, "kpis_refreshed": 0}
    if slow:
        result.update(run_slow_jobs())
    return result


def run_slow_jobs() -> dict:
    """Jobs that take minutes (a capacity planner run, a large spreadsheet export) or tens of seconds (the
    KPI figures at national scale). The running worker does them on a lane of their own, so texts never wait behind them."""
    from tts.api.idempotency import prune_idempotent_requests
    from tts.reports.export_jobs import expire_exports, run_pending_export_jobs
    from tts.reports.kpis import refresh_default_kpis
    from tts.simulation.services import run_pending_simulations

    simulated = 0 if current_app.config.get("TTS_SIMULATION_SCRATCH") else run_pending_simulations()
    db.session.commit()
    kpis = refresh_default_kpis()  # the KPI page's default view, kept fresh for analysts (own lock)
    db.session.commit()
    exported = run_pending_export_jobs()  # one large spreadsheet a pass (SKIP LOCKED: one worker per job)
    expired = expire_exports()
    db.session.commit()
    pruned = prune_idempotent_requests()  # API answers kept for retries: 24 hours, then gone
    db.session.commit()
    return {"simulations": simulated, "kpis_refreshed": int(kpis), "exports": exported, "exports_expired": expired,
            "idempotency_pruned": pruned}


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


def _lane(app: Flask, stop: threading.Event, step, name: str, niceness: int = 0) -> None:
    interval = app.config["TTS_WORKER_INTERVAL_SECONDS"]
    lower_priority(niceness)
    while not stop.is_set():
        with app.app_context():
            try:
                result = step()
                if any(result.values()):
                    log.info("worker %s: %s", name, result)  # counts only: nothing personal in logs
            except Exception:
                db.session.rollback()
                log.exception("worker %s pass failed; retrying", name)
        stop.wait(interval)


def run_forever(app: Flask, stop: threading.Event) -> None:
    """Texts and scanners on this thread; the slow jobs on a second one, so a planner run or a KPI
    computation never holds up a text."""
    slow = threading.Thread(target=_lane, args=(app, stop, run_slow_jobs, "slow jobs",
                                                app.config.get("TTS_SLOW_JOBS_NICE", 10)),
                            name="tts-worker-slow", daemon=True)
    slow.start()
    _lane(app, stop, lambda: run_once(slow=False), "pass")
    slow.join(timeout=5)


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
    app = current_app._get_current_object()
    click.echo("Worker running; Ctrl+C to stop")
    stop = threading.Event()
    try:
        run_forever(app, stop)
    except KeyboardInterrupt:
        stop.set()


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
