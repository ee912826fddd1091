"""Two workers at once never send the same message twice (real threads, own connections)."""
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_app
from tests.factories import person_data
from tts.cases.services import create_case
from tts.extensions import db
from tts.telephony.client import Sent
from tts.telephony.models import Message
from tts.telephony.services import deliver_due

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


class CountingGateway:
    is_simulated = False
    sender = "+447700900000"

    def __init__(self):
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send_sms(self, *, to, body, status_callback):
        time.sleep(0.002)  # widen the window in which a double send could happen
        with self.lock:
            self.sent.append(to)
            return Sent(f"SM{len(self.sent):030d}", "queued")

    def find_sent(self, **kwargs):
        return None


@pytest.mark.no_rollback
def test_two_workers_share_the_outbox_without_double_sending(fresh_database_url):
    import time_machine

    app = make_app(fresh_database_url("workers"))
    with time_machine.travel(NOW - timedelta(minutes=5), tick=False), app.app_context():
        for n in range(120):
            create_case(None, person_data(n % 50, last_name=f"Outbox{n}", phone=f"07700 900{n:03d}",
                                          address=f"{n} Worker Way"), test_date=NOW.date(), symptom_onset_date=None)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Message)) == 120
    gateway = CountingGateway()
    app.extensions["tts_gateway"] = gateway
    errors = []

    def worker():
        try:
            with app.app_context():
                while deliver_due(now=NOW, limit=7):
                    pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(gateway.sent) == 120
    assert [to for to, n in Counter(gateway.sent).items() if n > 1] == []  # each recipient texted once
    with app.app_context():
        statuses = Counter(db.session.scalars(select(Message.status)))
        assert statuses == {"sending": 120}
        db.session.remove()
        db.engine.dispose()


@pytest.mark.no_rollback
def test_a_worker_killed_mid_send_leaves_nothing_lost_or_doubled(fresh_database_url, tmp_path):
    """A real `flask worker` process is killed (SIGKILL) while it holds claimed messages; after the lease
    (TTS_OUTBOX_ORPHAN_MINUTES, 3) another worker picks them up, checks Twilio first, and sends each once."""
    import os
    import signal
    import subprocess
    import sys

    import time_machine

    from tts.telephony.services import reconcile

    url = fresh_database_url("killed")
    app = make_app(url)
    with app.app_context():
        for n in range(4):
            create_case(None, person_data(n, phone=f"07700 900{600 + n}"), test_date=NOW.date(),
                        symptom_onset_date=None)
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(Message))
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "worker-kill-test", "TTS_CONFIG": "development",
           "TTS_SIMULATED_GATEWAY_LATENCY_MS": "60000", "TTS_WORKER_INTERVAL_SECONDS": "0.2"}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], env=env,
                              cwd=os.getcwd(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with app.app_context():
                sending = db.session.scalar(select(func.count()).select_from(Message)
                                            .where(Message.status == "sending"))
                db.session.remove()
            if sending == total:
                break
            time.sleep(0.2)
        assert sending == total, "the worker never claimed the messages"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    with app.app_context():
        gateway = CountingGateway()
        app.extensions["tts_gateway"] = gateway
        assert deliver_due() == 0  # still leased to the dead worker: nobody else touches them
        assert app.config["TTS_OUTBOX_ORPHAN_MINUTES"] <= 5  # minutes, not half an hour
        later = datetime.now(UTC) + timedelta(minutes=app.config["TTS_OUTBOX_ORPHAN_MINUTES"] + 1)
        with time_machine.travel(later, tick=False):
            assert reconcile() == total  # the lease has run out: back in the queue, to be looked up first
            assert deliver_due() == total
        rows = db.session.scalars(select(Message)).all()
        assert all(m.twilio_sid and m.status == "sending" for m in rows)
        assert sorted(gateway.sent) == sorted(m.to_number for m in rows)  # each once
        db.session.remove()
        db.engine.dispose()
