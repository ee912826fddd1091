"""The running worker never holds texts up behind a slow job: planner runs and the KPI figures (tens of
seconds at national scale) have a lane of their own. Real threads, each with its own connection."""
import os
import sys
import threading
import time

import pytest
from sqlalchemy import select

from tests.conftest import make_app
from tests.factories import person_data
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts import worker
from tts.telephony.models import Message


def test_a_pass_without_the_slow_lane_leaves_the_slow_jobs(app, monkeypatch):
    ran = []
    monkeypatch.setattr(worker, "run_slow_jobs", lambda: ran.append(1) or {"simulations": 1, "kpis_refreshed": 1})
    with app.app_context():
        fast = worker.run_once(slow=False)
        assert ran == [] and fast["simulations"] == 0 and fast["kpis_refreshed"] == 0
        assert worker.run_once()["simulations"] == 1 and ran == [1]  # `flask worker --once` does everything


@pytest.mark.no_rollback
def test_texts_go_out_while_a_slow_job_runs(fresh_database_url, monkeypatch):
    app = make_app(fresh_database_url("lanes"), TTS_WORKER_INTERVAL_SECONDS=0.2)
    started, release = threading.Event(), threading.Event()

    def slow_jobs():
        started.set()
        release.wait(20)  # a planner run or a national-scale KPI computation
        return {"simulations": 0, "kpis_refreshed": 0}

    monkeypatch.setattr(worker, "run_slow_jobs", slow_jobs)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(app, stop), daemon=True)
    thread.start()
    try:
        assert started.wait(10)
        with app.app_context():
            create_case(None, person_data(7, phone="07700 900707"), test_date=today(), symptom_onset_date=None)
            db.session.commit()
        deadline = time.monotonic() + 10
        sid = None
        while time.monotonic() < deadline and sid is None:
            time.sleep(0.1)
            with app.app_context():
                sid = db.session.scalar(select(Message.twilio_sid).where(Message.to_number == "+447700900707"))
        assert sid is not None, "the text waited behind the slow job"  # handed to (simulated) Twilio
        assert not release.is_set()  # the slow job was still running all along
    finally:
        release.set()
        stop.set()
        thread.join(10)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.no_rollback
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is Linux's")
def test_the_slow_lane_runs_at_a_lower_cpu_priority_than_the_texts(fresh_database_url, monkeypatch):
    app = make_app(fresh_database_url("lanes_nice"), TTS_WORKER_INTERVAL_SECONDS=0.2, TTS_SLOW_JOBS_NICE=7)
    seen: dict[str, int] = {}
    done = threading.Event()

    def priority_here() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def slow_jobs():
        seen["slow"] = priority_here()
        done.set()
        return {"simulations": 0, "kpis_refreshed": 0}

    def fast_pass(slow=True):
        seen["fast"] = priority_here()
        return {"sent": 0}

    monkeypatch.setattr(worker, "run_slow_jobs", slow_jobs)
    monkeypatch.setattr(worker, "run_once", fast_pass)
    stop = threading.Event()
    base = os.getpriority(os.PRIO_PROCESS, 0)
    thread = threading.Thread(target=worker.run_forever, args=(app, stop), daemon=True)
    thread.start()
    try:
        assert done.wait(10)
        deadline = time.monotonic() + 5
        while "fast" not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen["slow"] == min(19, base + 7) and seen["fast"] == base
        assert os.getpriority(os.PRIO_PROCESS, 0) == base  # the process itself (and the web) untouched
    finally:
        stop.set()
        thread.join(10)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
