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
