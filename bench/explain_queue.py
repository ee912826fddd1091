"""Load a large queue into a scratch PostgreSQL database and print EXPLAIN ANALYZE of the claim query.

    .venv/bin/python bench/explain_queue.py [--items 100000] [--server postgresql+psycopg://postgres@127.0.0.1/postgres]

The statement explained is the one claim_next() runs (compiled from the service's own query builder).
"""
import argparse
import random
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tts import create_app  # noqa: E402
from tts.extensions import db  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    name = f"tts_explain_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            flask_migrate.upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
            load(args.items)
            explain()
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def load(n: int) -> None:
    from tts.callqueue.models import WorkItem
    from tts.cases.models import Case
    from tts.people.models import Person

    rng = random.Random(7)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    people = [{"id": i, "first_name": "Bench", "last_name": f"P{i}", "date_of_birth": date(1980, 1, 1),
               "phone": f"+44770090{i % 10000:04d}", "is_vulnerable": i % 50 == 0, "has_sms_opt_out": False,
               "created_at": now, "updated_at": now} for i in range(1, n + 1)]
    cases = [{"id": i, "reference": f"B-{i}", "person_id": i, "test_date": date(2026, 11, 22), "source": "local",
              "status": "open", "isolation_end_date": date(2026, 12, 2), "policy_id": 1, "created_at": now}
             for i in range(1, n + 1)]
    statuses = ["open"] * 6 + ["done"] * 3 + ["escalated"]
    items = []
    for i in range(1, n + 1):
        status = rng.choice(statuses)
        items.append({"id": i, "kind": "initial_call", "case_id": i, "person_id": i, "status": status,
                      "band": rng.choice([1, 2, 2, 3, 3, 3]), "is_household_raised": False,
                      "due_at": now - timedelta(minutes=rng.randint(-600, 1440)), "created_at": now,
                      "attempts": 0})
    for table, rows in ((Person, people), (Case, cases), (WorkItem, items)):
        for start in range(0, n, 10_000):
            db.session.execute(insert(table), rows[start:start + 10_000])
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    print(f"loaded {n} work items ({sum(1 for r in items if r['status'] == 'open')} open)")


def explain() -> None:
    from tts.auth.models import User
    from tts.callqueue.services import _locked_candidate

    user = User(id=999_999)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    captured = {}

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FOR UPDATE" in statement and "work_items" in statement:
            captured.setdefault("sql", (statement, parameters))

    from sqlalchemy import event

    event.listen(db.engine, "before_cursor_execute", capture)
    _locked_candidate(True, user.id, now, set())  # from the pool
    db.session.rollback()
    event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = captured["sql"]
    print("\n-- claim_next() pool candidate query:\n" + statement + "\n")
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS) " + statement, parameters)
        for (line,) in cursor.fetchall():
            print(line)
        raw.rollback()
    finally:
        raw.close()


if __name__ == "__main__":
    main()
