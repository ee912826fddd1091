"""Bulk reassignment of a claimed item while its tracer records an outcome: exactly one wins, cleanly.

Real threads with their own connections, on the suite's database (PostgreSQL in CI's second pass)."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_app
from tests.factories import person_data
from tts.auth.models import User
from tts.auth.services import create_user
from tts.callqueue.models import CallAttempt, WorkItem
from tts.callqueue.errors import NotClaimHolder
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_item
from tts.cases.services import create_case
from tts.extensions import db
from tts.supervision.services import reassign_items

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
ROUNDS = 20


@pytest.mark.no_rollback
def test_reassign_races_record_outcome(fresh_database_url):
    import time_machine

    app = make_app(fresh_database_url("reassign"))
    with time_machine.travel(NOW - timedelta(minutes=1), tick=False), app.app_context():
        holder = create_user(None, email="holder@race.example", name="Holder", role="tracer", password="seven-ochre-kites")
        other = create_user(None, email="other@race.example", name="Other", role="tracer", password="seven-ochre-kites")
        boss = create_user(None, email="boss@race.example", name="Boss", role="supervisor", password="seven-ochre-kites")
        item_ids = []
        for n in range(ROUNDS):
            case = create_case(None, person_data(n % 40, last_name=f"Race{n}", phone=f"07700 900{n:03d}",
                                                 address=f"{n} Race Row"), test_date=NOW.date(), symptom_onset_date=None)
            db.session.flush()
            item = db.session.scalars(select(WorkItem).where(WorkItem.case_id == case.id)).one()
            claim_item(holder, item)
            item_ids.append((item.id, item.claim_token))
        ids = (holder.id, other.id, boss.id)
        db.session.commit()

    results = {}

    def record(item_id, token, gate):
        with app.app_context():
            user = db.session.get(User, ids[0])
            item = db.session.get(WorkItem, item_id)
            db.session.commit()
            gate.wait()
            try:
                record_attempt(user, item, outcome="reached", claim_token=token, now=NOW)
                db.session.commit()
                results[(item_id, "record")] = "won"
            except NotClaimHolder:
                db.session.rollback()
                results[(item_id, "record")] = "refused"

    def reassign(item_id, gate):
        with app.app_context():
            boss, other = db.session.get(User, ids[2]), db.session.get(User, ids[1])
            db.session.commit()
            gate.wait()
            changed, skipped = reassign_items(boss, [item_id], other, now=NOW)
            db.session.commit()
            results[(item_id, "reassign")] = "won" if changed else "skipped"

    for item_id, token in item_ids:
        gate = threading.Barrier(2, timeout=30)
        threads = [threading.Thread(target=record, args=(item_id, token, gate), daemon=True),
                   threading.Thread(target=reassign, args=(item_id, gate), daemon=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    with app.app_context():
        for item_id, _ in item_ids:
            item = db.session.get(WorkItem, item_id)
            attempts = db.session.scalar(select(func.count()).select_from(CallAttempt)
                                         .where(CallAttempt.work_item_id == item_id))
            outcome = (results[(item_id, "record")], results[(item_id, "reassign")])
            if outcome == ("won", "skipped"):  # the call was recorded first; the reassignment left it alone
                assert (item.status, attempts, item.assignee_id) == ("done", 1, None)
            elif outcome == ("refused", "won"):  # reassigned first; the tracer's late write was refused
                assert (item.status, attempts, item.assignee_id, item.claimed_by_id) == ("open", 0, ids[1], None)
            else:
                pytest.fail(f"item {item_id}: {outcome} is not a clean single winner")
        db.session.remove()
        db.engine.dispose()
