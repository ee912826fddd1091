"""The audit log's hash chain: sealed by the sealer after commit (or at commit, as the suite runs), verified by
`flask audit verify`, tamper named; writers and imports never wait for the chain's lock."""
import threading

import pytest
from sqlalchemy import func, select, text

from tests.conftest import make_app
from tts.audit.chain import verify
from tts.audit.models import AuditEvent
from tts.audit.services import record_event
from tts.extensions import db


def _unlock_for_tampering() -> None:
    """What an attacker with database access would do; rolled back with the test's transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER audit_events_no_update"))
        db.session.execute(text("DROP TRIGGER audit_events_no_delete"))


def _three_events(app) -> list[int]:
    with app.app_context():
        for n in range(3):
            record_event(None, "test.event", None, {"n": n})
            db.session.commit()
        return list(db.session.scalars(select(AuditEvent.chain_seq).where(AuditEvent.action == "test.event")
                                       .order_by(AuditEvent.chain_seq)))


def test_events_are_sealed_into_an_intact_chain(app):
    seqs = _three_events(app)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
        assert all(e.hash and len(e.hash) == 64 for e in events)
        assert [e.chain_seq for e in events] == list(range(1, len(events) + 1))
        assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
        assert seqs == [e.chain_seq for e in events if e.action == "test.event"]
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and f"{len(events)} events checked" in result.output


def test_events_written_early_and_late_in_one_transaction_seal_in_order(app):
    """One transaction with an event an earlier flush wrote and events written at the commit, with text outside
    ASCII: the sealer's hashing (from the stored rows) and verify's must agree byte for byte."""
    with app.app_context():
        early = record_event(None, "test.early", None, {"label": "Zoë’s café, Ōsaka – ü"})
        db.session.flush()
        assert early.id is not None and early.hash is None
        late = [record_event(None, "test.late", None, {"n": n, "emoji": "☎"}) for n in range(2)]
        db.session.commit()
        assert early.chain_seq + 1 == late[0].chain_seq and late[0].chain_seq + 1 == late[1].chain_seq
        assert late[0].prev_hash == early.hash and late[1].prev_hash == late[0].hash
        stored = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("test.%"))
                                    .order_by(AuditEvent.chain_seq)).all()
        assert [(e.id, e.hash) for e in stored] == [(e.id, e.hash) for e in [early, *late]]
        assert stored[0].details == {"label": "Zoë’s café, Ōsaka – ü"} and stored[2].details == {"n": 1, "emoji": "☎"}
        assert verify(db.session).ok


def test_an_edited_event_is_named_by_verify(app):
    seqs = _three_events(app)
    with app.app_context():
        _unlock_for_tampering()
        db.session.execute(text("UPDATE audit_events SET details = :d WHERE chain_seq = :s"),
                           {"d": '{"n": 99}', "s": seqs[1]})
        db.session.commit()
        verdict = verify(db.session)
        assert not verdict.ok and verdict.broken_at == seqs[1] and "content" in verdict.reason
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"BROKEN at chain position {seqs[1]}" in result.output


def test_a_deleted_event_is_named_by_verify(app):
    seqs = _three_events(app)
    with app.app_context():
        _unlock_for_tampering()
        db.session.execute(text("DELETE FROM audit_events WHERE chain_seq = :s"), {"s": seqs[1]})
        db.session.commit()
        verdict = verify(db.session)
        assert not verdict.ok and verdict.broken_at == seqs[1] and "missing" in verdict.reason


def test_an_event_written_around_the_app_is_reported_as_unsealed(app):
    _three_events(app)
    with app.app_context():
        db.session.execute(text("INSERT INTO audit_events (at, action, via) VALUES (CURRENT_TIMESTAMP, 'forged', 'cli')"))
        db.session.commit()
        verdict = verify(db.session)
        assert verdict.ok and verdict.unsealed == 1 and verdict.oldest_unsealed_at is not None
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "1 newer events are not sealed yet" in result.output
    assert app.test_cli_runner().invoke(args=["audit", "verify", "--strict"]).exit_code == 2


def test_the_database_refuses_edits_but_allows_only_sealing(app):
    _three_events(app)
    with app.app_context():
        with pytest.raises(Exception, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(text("UPDATE audit_events SET action = 'x' WHERE chain_seq = 1"))
        with pytest.raises(Exception, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(text("UPDATE audit_events SET hash = 'f' WHERE chain_seq = 1"))  # resealing


def test_events_from_a_rolled_back_savepoint_never_enter_the_chain(app):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        savepoint = db.session.begin_nested()
        record_event(None, "test.discarded")
        db.session.flush()
        savepoint.rollback()
        record_event(None, "test.kept")
        db.session.commit()
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert len(actions) == before + 1 and actions[-1] == "test.kept"
        assert verify(db.session).ok


def _writer(app, worker: int, transactions: int, start: threading.Barrier, errors: list) -> None:
    """A thread committing `transactions` transactions of two audit events each, once every thread is ready."""
    try:
        start.wait()
        for n in range(transactions):
            with app.app_context():
                record_event(None, "test.concurrent", None, {"worker": worker, "n": n})
                record_event(None, "test.concurrent", None, {"worker": worker, "n": n, "second": True})
                db.session.commit()
    except BaseException as exc:  # noqa: BLE001  (reported by the test)
        errors.append(exc)


@pytest.mark.no_rollback
def test_concurrent_writers_build_one_unbroken_chain(fresh_database_url):
    app = make_app(fresh_database_url("chain"), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10})
    errors: list[BaseException] = []
    start = threading.Barrier(8, timeout=60)
    threads = [threading.Thread(target=_writer, args=(app, w, 25, start, errors)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with app.app_context():
            verdict = verify(db.session)
            assert verdict.ok and verdict.checked == 400, verdict
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_an_event_recorded_before_a_rolled_back_savepoint_is_still_sealed(app):
    # A webhook's duplicate check or an import row runs in a savepoint; its rollback must not drop the
    # events the same transaction recorded before it (they would be written but never sealed).
    with app.app_context():
        record_event(None, "test.before")
        savepoint = db.session.begin_nested()
        record_event(None, "test.discarded")
        db.session.flush()
        savepoint.rollback()
        with db.session.begin_nested():
            record_event(None, "test.in_released_savepoint")
        record_event(None, "test.after")
        db.session.commit()
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("test.%"))
                                    .order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["test.before", "test.in_released_savepoint", "test.after"]
        assert all(e.hash for e in events)
        assert verify(db.session).ok


def test_savepoints_do_not_seal_on_their_own(app):
    """Sealing takes the chain's lock and reads its head: once per transaction, not once per savepoint."""
    from sqlalchemy import event

    heads = []

    def count(conn, cursor, statement, *args):
        if "FROM audit_events" in statement and "chain_seq DESC" in statement:  # the chain head's read
            heads.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            for n in range(3):
                with db.session.begin_nested():
                    record_event(None, "test.row", None, {"n": n})
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(heads) == 1
        assert verify(db.session).ok


def test_events_inserted_in_bulk_are_sealed_and_verify(app, make_user):
    """The sealer builds the hashed JSON from pieces; verify rebuilds it with json.dumps: they agree on
    awkward values (no actor, an IP, unicode and quotes in details, nested and unsorted details)."""
    from datetime import UTC, datetime

    from tts.audit.chain import content_hash, insert_unsealed

    at = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    actor = make_user("supervisor")["id"]
    rows = [
        {"at": at, "actor_id": None, "action": "import.row", "record_type": None, "record_id": None, "via": "cli",
         "ip": None, "details": None},
        {"at": at.replace(microsecond=0), "actor_id": actor, "action": "person.match", "record_type": "person",
         "record_id": 12, "via": "web", "ip": "203.0.113.9",
         "details": {"z": 1, "filled": ["phone", "email"], "note": 'Zoë "quoted" \\ back'}},
        {"at": at, "actor_id": actor, "action": "message.queue", "record_type": "message", "record_id": 99,
         "via": "api", "ip": "2001:db8::1", "details": {"nested": {"b": 2, "a": [None, True, 1.5]}}},
    ]
    expected = [content_hash(0, "x", **r) for r in rows]  # the reference serialisation, before rows are used
    with app.app_context():
        insert_unsealed(db.session(), [dict(r) for r in rows])
        db.session.commit()
        assert verify(db.session).ok
        stored = db.session.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq.desc()).limit(3)).all()
        assert [e.details for e in reversed(stored)] == [r["details"] for r in rows]
    assert len(set(expected)) == 3


@pytest.fixture
def sealed_later(fresh_database_url):
    """An app as production runs it: events are committed unsealed and the sealer seals them afterwards."""
    app = make_app(fresh_database_url("sealer"), TTS_AUDIT_SEAL_AT_COMMIT=False,
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.no_rollback
def test_events_commit_unsealed_and_the_sealer_seals_them_in_batches(sealed_later, monkeypatch):
    from tts.audit import chain
    from tts.audit.sealer import seal_committed_events

    app = sealed_later
    monkeypatch.setattr(chain, "BATCH", 7)  # several batches, each its own transaction
    monkeypatch.setattr("tts.audit.sealer.BATCH", 7)
    with app.app_context():
        for n in range(20):
            record_event(None, "test.later", None, {"n": n, "label": "Zoë ☎"})
            db.session.commit()
        verdict = verify(db.session)
        assert verdict.ok and verdict.unsealed == 20
        runner = app.test_cli_runner()
        assert runner.invoke(args=["audit", "verify", "--strict"]).exit_code == 2
        assert seal_committed_events() == 20
        verdict = verify(db.session)
        assert verdict.ok and verdict.unsealed == 0 and verdict.checked >= 20
        assert seal_committed_events() == 0
        assert runner.invoke(args=["audit", "verify", "--strict"]).exit_code == 0
        result = runner.invoke(args=["audit", "seal"])
        assert result.exit_code == 0 and "Sealed 0 audit events" in result.output


def _hold_the_chain_lock(app):
    """What a sealer in the middle of a batch holds (on another connection)."""
    connection = db.engine.connect()
    connection.execute(text("SELECT pg_advisory_lock(7317001)"))
    return connection


@pytest.mark.no_rollback
def test_writers_never_wait_for_the_chain_and_many_sealers_build_one_chain(sealed_later):
    """PostgreSQL, real threads: while a sealer holds the chain's lock, audited writes still commit; then 8
    writers and 3 sealers run at once, and every event is sealed exactly once into one unbroken chain."""
    import time

    from tts.audit.sealer import seal_committed_events

    app = sealed_later
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time: there is nothing to wait for")
        held = _hold_the_chain_lock(app)
        try:
            started = time.perf_counter()
            record_event(None, "test.while_locked")
            db.session.commit()
            assert time.perf_counter() - started < 2
            assert seal_committed_events() == 0  # another sealer has it: this one goes on
        finally:
            held.execute(text("SELECT pg_advisory_unlock(7317001)"))
            held.close()
        db.session.remove()

    errors: list[BaseException] = []
    writing = threading.Event()
    start = threading.Barrier(11, timeout=60)

    def seal() -> None:
        try:
            start.wait()
            while writing.is_set():
                with app.app_context():
                    seal_committed_events()
                    db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    writing.set()
    writers = [threading.Thread(target=_writer, args=(app, w, 40, start, errors)) for w in range(8)]
    sealers = [threading.Thread(target=seal) for _ in range(3)]
    for thread in writers + sealers:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    for thread in sealers:
        thread.join()
    assert errors == []
    with app.app_context():
        seal_committed_events()
        verdict = verify(db.session)
        assert verdict.ok and verdict.unsealed == 0 and verdict.checked == 641, verdict
        seqs = db.session.scalars(select(AuditEvent.chain_seq).order_by(AuditEvent.chain_seq)).all()
        assert seqs == list(range(1, 642))


@pytest.mark.no_rollback
def test_a_bulk_import_never_takes_the_chain_lock(sealed_later, make_user):
    """The set-based import writes its events unsealed: it commits while a sealer holds the chain's lock."""
    from tts.audit.sealer import seal_committed_events
    from tts.auth.models import User
    from tts.clock import today
    from tts.imports.services import import_now_or_later

    app = sealed_later
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time")
        from tests.factories import UserFactory

        supervisor = UserFactory(role="supervisor")
        db.session.commit()
        supervisor = db.session.get(User, supervisor.id)
        tested = today().isoformat()
        rows = "\n".join(f"IMP-{n},case,Ima{n},Porter,1990-01-0{1 + n % 9},07700 900{n:03d},,{n} Import Row,S1 2HH,"
                          f"{tested},,,," for n in range(30))
        csv = ("referral_id,record_type,first_name,last_name,date_of_birth,phone,email,address,postcode,test_date,"
               "symptom_onset_date,case_referral_id,relationship,last_exposure_date\n" + rows + "\n")
        held = _hold_the_chain_lock(app)
        try:
            finished = threading.Event()
            outcome: list = []

            def importing():
                with app.app_context():
                    try:
                        outcome.append(import_now_or_later(db.session.get(User, supervisor.id), "bulk.csv", csv).status)
                        db.session.commit()
                    except BaseException as exc:  # noqa: BLE001
                        outcome.append(exc)
                    finished.set()

            thread = threading.Thread(target=importing)
            thread.start()
            assert finished.wait(30), "the import waited for the chain's lock"
            thread.join()
        finally:
            held.execute(text("SELECT pg_advisory_unlock(7317001)"))
            held.close()
        assert outcome == ["completed"], outcome
        sealed = seal_committed_events()
        assert sealed >= 30
        assert verify(db.session).ok and verify(db.session).unsealed == 0
