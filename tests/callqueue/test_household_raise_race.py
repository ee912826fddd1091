"""Two tracers reach two members of one household at the same moment: each outcome raises the other
members' calls, and neither may wait for the other's item (on PostgreSQL that was a deadlock, found by
the load test). Real threads, each with its own connection."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import make_app
from tests.factories import person_data
from tts.auth.models import User
from tts.auth.services import create_user
from tts.callqueue.models import ItemStatus, WorkItem
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_item
from tts.cases.services import add_contact, create_case
from tts.extensions import db

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # inside calling hours
HOUSEHOLDS = 12


@pytest.fixture(scope="module")
def race_app(fresh_database_url):
    import time_machine

    app = make_app(fresh_database_url("raise"), TTS_MAX_COMPANIONS=0)  # one person a call: the two race
    with time_machine.travel(NOW - timedelta(hours=1), tick=False), app.app_context():
        for n in range(2):
            create_user(None, email=f"raiser{n}@race.example", name=f"Raiser {n}", role="tracer",
                        password="race-condition-password")
        for h in range(HOUSEHOLDS):
            case = create_case(None, person_data(h, last_name=f"Home{h}", phone=f"07700 900{h:03d}",
                                                 address=f"{h} Raise Row", postcode="S2 4HT"),
                               test_date=NOW.date(), symptom_onset_date=None)
            for k in range(2):  # two household contacts: each outcome raises two others
                add_contact(None, case, person_data(h, first_name=f"Kin{k}", last_name=f"Home{h}", date_of_birth=None,
                                                    phone=f"07700 900{100 + 2 * h + k:03d}", address=None,
                                                    postcode=None),
                            relationship="household", last_exposure_date=NOW.date())
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.no_rollback
def test_two_members_reached_at_once_never_deadlock(race_app):
    with race_app.app_context():
        users = db.session.scalars(select(User.id).order_by(User.id)).all()
        rows = db.session.execute(select(WorkItem.id, WorkItem.case_id).order_by(WorkItem.id)).all()
    # Per household: the case's item and the first household contact's item, one for each tracer.
    pairs = [(rows[i][0], rows[i + 1][0]) for i in range(0, len(rows), 3)]
    assert len(pairs) == HOUSEHOLDS
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=60)

    def tracer(index: int) -> None:
        import time_machine

        try:
            with time_machine.travel(NOW, tick=True), race_app.app_context():
                user = db.session.get(User, users[index])
                for pair in pairs:
                    item = db.session.get(WorkItem, pair[index])
                    token = claim_item(user, item).item.claim_token
                    db.session.commit()  # no transaction open while waiting (on SQLite it holds the write lock)
                    start.wait()  # both have claimed their member of the household: record together
                    record_attempt(user, db.session.get(WorkItem, pair[index]), outcome="reached",
                                   claim_token=token)
                    db.session.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=tracer, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with race_app.app_context():
        done = db.session.scalars(select(WorkItem.status).where(WorkItem.id.in_([i for p in pairs for i in p]))).all()
        third = db.session.scalars(select(WorkItem).where(WorkItem.id.in_([rows[i + 2][0] for i in range(0, len(rows), 3)]))).all()
    assert done == [ItemStatus.DONE] * (2 * HOUSEHOLDS)
    assert all(item.is_household_raised for item in third)  # the member nobody was calling was raised
