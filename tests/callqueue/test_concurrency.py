"""No double claim: 16 real threads, each with its own connection, empty a queue of a few hundred items.

Runs on whichever database the suite runs on (SQLite, then PostgreSQL in `make test`)."""
import threading
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_app
from tests.factories import person_data
from tts.auth.models import User
from tts.auth.services import create_user
from tts.callqueue.models import WorkItem
from tts.callqueue.services import claim_next
from tts.cases.services import add_contact, create_case
from tts.extensions import db

THREADS = 16
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # inside calling hours


@pytest.fixture(scope="module")
def queue_app(fresh_database_url):
    app = make_app(fresh_database_url("concurrency"),
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 4, "max_overflow": 4})
    import time_machine

    with time_machine.travel(NOW - timedelta(hours=1), tick=False), app.app_context():
        for n in range(THREADS):
            create_user(None, email=f"tracer{n}@race.example", name=f"Racer {n}", role="tracer",
                        password="race-condition-password")
        # 100 households: a case, a household contact, a close contact (some sharing a phone with
        # another household), so claims of companions race as well as single claims.
        for h in range(100):
            case = create_case(None, person_data(h, last_name=f"House{h}", phone=f"07700 900{h:03d}",
                                                 address=f"{h} Race Street", postcode="S1 2HH"),
                               test_date=NOW.date(), symptom_onset_date=None)
            add_contact(None, case, person_data(h, first_name="Kin", last_name=f"House{h}", date_of_birth=None,
                                                phone=f"07700 900{(h + 100):03d}", address=None, postcode=None),
                        relationship="household", last_exposure_date=NOW.date())
            shared = f"07700 900{(200 + h // 2):03d}"  # pairs of close contacts share a phone
            add_contact(None, case, person_data(h, first_name="Pal", last_name=f"Near{h}", date_of_birth=None,
                                                phone=shared, address=None, postcode=None),
                        relationship="close", last_exposure_date=NOW.date())
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.no_rollback
def test_sixteen_threads_never_claim_the_same_item_or_person(queue_app, is_postgres):
    with queue_app.app_context():
        total = db.session.scalar(select(func.count()).select_from(WorkItem))
        user_ids = db.session.scalars(select(User.id).order_by(User.id)).all()
    assert total == 300 and len(user_ids) == THREADS

    handed: dict[int, list[int]] = defaultdict(list)  # user -> item ids
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS, timeout=60)

    def work(user_id: int) -> None:
        try:
            with queue_app.app_context():
                user = db.session.get(User, user_id)
                db.session.commit()  # on SQLite an open transaction holds the write lock: end it before waiting
                start.wait()
                while True:
                    claim = claim_next(user, now=NOW)
                    ids = [claim.item.id] + [i.id for i in claim.also_claimed] if claim else []
                    db.session.commit()  # the claim is committed at once
                    if claim is None:
                        return
                    handed[user_id].extend(ids)
        except BaseException as exc:  # surface any thread failure in the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(uid,), daemon=True) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    all_ids = [i for ids in handed.values() for i in ids]
    duplicates = [i for i, n in Counter(all_ids).items() if n > 1]
    assert duplicates == []
    assert len(all_ids) == total  # every item handed out exactly once
    if is_postgres:  # row locks let the threads interleave; SQLite's one write lock may serialise them
        assert sum(1 for ids in handed.values() if ids) > 1  # the work really was shared

    with queue_app.app_context():
        rows = db.session.execute(select(WorkItem.id, WorkItem.person_id, WorkItem.claimed_by_id)).all()
    holder = {item_id: user for user, ids in handed.items() for item_id in ids}
    by_person: dict[int, set[int]] = defaultdict(set)
    for item_id, person_id, claimed_by in rows:
        assert claimed_by == holder[item_id]  # the database agrees with what each thread was told
        by_person[person_id].add(claimed_by)
    assert all(len(users) == 1 for users in by_person.values())  # no person on two tracers' calls


def _other_item_conditions_hold(sql: str) -> bool:
    """Every condition on "someone else's item" is on the alias, never on work_items itself."""
    return all(f"other_item.{column}" in sql for column in ("person_id", "status", "claimed_until", "claimed_by_id"))


def _queue_statements(dialect: str) -> list:
    from tts.callqueue import statements

    return [*(statements.candidate_statement(pool, fifo, excluding, dialect)
              for pool in (False, True) for fifo in (False, True) for excluding in (False, True)),
            statements.companions_statement(dialect)]


def _check_statements() -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    from tts.callqueue import statements

    for name, dialect in (("postgresql", postgresql.dialect()), ("sqlite", sqlite.dialect())):
        held = str(statements.people_held_statement(name).compile(dialect=dialect))
        assert "work_items." not in held and _other_item_conditions_hold(held), held
        *candidates, companions = _queue_statements(name)
        # The companions' statement leaves other tracers' claims to _people_held, after its locks.
        assert "other_item" not in str(companions.compile(dialect=dialect))
        for statement in candidates:
            sql = str(statement.compile(dialect=dialect))
            exists_clause = sql[sql.index("EXISTS"):]
            assert "other_item.person_id = work_items.person_id" in exists_clause, sql
            assert _other_item_conditions_hold(exists_clause), sql


def test_queue_statements_are_built_when_the_app_is_created(app):
    """Built lazily by a server's first concurrent claims, a statement could be cached half-adapted to
    the alias of work_items (claims then answered "nobody waiting" with the queue full). The app builds
    them all when it is created, and each puts its conditions on the right table."""
    from tts.callqueue import statements

    for builder in (statements.candidate_statement, statements.people_held_statement,
                    statements.companions_statement, statements.lock_statement):
        assert builder.cache_info().currsize > 0, builder.__name__
    _check_statements()


def test_queue_statements_built_by_many_threads_at_once_are_whole(app):
    """Sixteen threads build the statements at the same moment from a new alias, twenty times over: no
    SQLAlchemy warning (a half-adapted alias warns) and every statement whole."""
    import warnings

    from sqlalchemy import exc

    from tts.callqueue import statements

    builders = (statements.other_item, statements.candidate_statement, statements.people_held_statement,
                statements.companions_statement)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", exc.SAWarning)
            for _ in range(20):
                for builder in builders:
                    builder.cache_clear()
                start = threading.Barrier(THREADS)

                def build():
                    start.wait()
                    statements.people_held_statement("postgresql")
                    _queue_statements("postgresql")

                threads = [threading.Thread(target=build) for _ in range(THREADS)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                _check_statements()
        assert [str(w.message) for w in caught if issubclass(w.category, exc.SAWarning)] == []
    finally:
        for builder in builders:
            builder.cache_clear()
        statements.prepare_statements()
