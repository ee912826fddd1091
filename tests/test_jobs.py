"""tts/jobs.py: a pending job is taken by exactly one worker. Eight threads, each with its own connection,
race for twelve pending imports; each is taken once. Runs on SQLite and PostgreSQL (SKIP LOCKED there)."""
import threading
from collections import Counter

import pytest

from tests.conftest import make_app
from tts.extensions import db
from tts.imports.models import ImportBatch
from tts.jobs import claim_pending

pytestmark = pytest.mark.no_rollback


def test_each_pending_job_is_taken_by_exactly_one_worker(fresh_database_url):
    app = make_app(fresh_database_url("jobs"), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 2})
    try:
        with app.app_context():
            for n in range(12):
                db.session.add(ImportBatch(file_name=f"referrals-{n}.csv", status="pending", payload=""))
            db.session.commit()
        taken: Counter = Counter()
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def worker():
            barrier.wait()
            while True:
                with app.app_context():
                    try:
                        batch = claim_pending(ImportBatch, status="processing")
                    except Exception:  # noqa: BLE001  (SQLite: another writer held the lock; try again)
                        db.session.rollback()
                        continue
                    if batch is None:
                        return
                    with lock:
                        taken[batch.id] += 1

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(taken) == 12 and set(taken.values()) == {1}, taken
        with app.app_context():
            from sqlalchemy import select

            assert set(db.session.scalars(select(ImportBatch.status))) == {"processing"}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
