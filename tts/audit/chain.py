"""Tamper evidence for the audit log: a hash chain.

Each event, when its transaction commits, is sealed with the next `chain_seq`, the previous event's hash
and a SHA-256 over its own content plus that previous hash. Changing, deleting or inserting an event
afterwards breaks the chain at that point, and `flask audit verify` names the first broken link.

Sealing happens in the committing transaction (SQLAlchemy's before_commit), under a lock that only
spans the commit. On PostgreSQL the transaction's other writes are flushed first, then one call of the
`audit_seal` function takes the transaction-level advisory lock, reads the head, hashes and inserts the
events on the server, sent in one message with the COMMIT (every writer queues on that lock: it must not
wait on Python). On SQLite every write transaction already holds the database's write lock, and Python seals the
events before their INSERT. Both hash the same text. Events from a rolled-back savepoint never reach
the chain.
"""
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import bindparam, event as sa_event, select, text
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from tts.audit.models import AuditEvent
from tts.clock import utcnow
from tts.bulk_insert import RawJSON, insert_rows

GENESIS = "0" * 64
_LOCK_KEY = 7_317_001  # pg_advisory_xact_lock key reserved for the audit chain
_PENDING = "tts_audit_pending"


_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def content_parts(*, at, actor_id, action, record_type, record_id, via, ip, details) -> tuple[str, str, str]:
    """The JSON an event's hash is taken over (its fields, keys sorted, no spaces), in three pieces around
    the two values only known when it is sealed: the previous hash and its place in the chain. The
    set-based import prepares these before it takes the chain's lock."""
    enc = _JSON.encode
    head = (f'{{"action":{enc(action)},"actor_id":{enc(actor_id)},"at":{enc(at.isoformat(timespec="microseconds"))},'
            f'"details":{enc(details)},"ip":{enc(ip)},"prev":')
    middle = f',"record_id":{enc(record_id)},"record_type":{enc(record_type)},"seq":'
    tail = f',"via":{enc(via)}}}'
    return head, middle, tail


def sealed_hash(parts: tuple[str, str, str], seq: int, prev_hash: str) -> str:
    head, middle, tail = parts
    return hashlib.sha256(f"{head}{_JSON.encode(prev_hash)}{middle}{seq:d}{tail}".encode()).hexdigest()


def content_hash(seq: int, prev_hash: str, **fields) -> str:
    """SHA-256 over the event's fields with its place in the chain: the JSON of
    {seq, prev, at, actor_id, action, record_type, record_id, via, ip, details}, keys sorted, no spaces."""
    return sealed_hash(content_parts(**fields), seq, prev_hash)


def _event_hash(event: AuditEvent, seq: int, prev_hash: str) -> str:
    return content_hash(seq, prev_hash, at=event.at, actor_id=event.actor_id, action=event.action,
                        record_type=event.record_type, record_id=event.record_id, via=event.via, ip=event.ip,
                        details=event.details)


def track(session: Session, event: AuditEvent) -> None:
    """Remember an event added in this transaction so it is sealed when the transaction commits."""
    session.info.setdefault(_PENDING, []).append(event)


def seal_pending(session: Session) -> None:
    """Seal this transaction's events. Those not yet written are sealed before their INSERT (the commit's
    flush writes them with their link: one statement for them all); those an earlier flush wrote are
    sealed by an UPDATE by primary key, the one change the database allows on an audit event."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    new = session.new
    unwritten = [e for e in pending if e in new]
    # Events added inside a savepoint that was rolled back are no longer in the session: they never happened.
    written = [e for e in pending if e not in new and e in session and e.id is not None and not e.hash]
    if not unwritten and not written:
        return
    if session.get_bind().dialect.name == "postgresql":
        _seal_on_server(session, sorted(written, key=lambda e: e.id), unwritten)
        return
    with session.no_autoflush:  # a flush here would write the unsealed events unsealed
        seq, prev = _head(session)
        sealed = []
        for event in sorted(written, key=lambda e: e.id):
            seq += 1
            digest = _event_hash(event, seq, prev)
            sealed.append({"event_id": event.id, "seq": seq, "prev": prev, "digest": digest})
            prev = digest
        if sealed:
            # One executemany of Core updates by primary key: the ORM refuses to modify audit events.
            table = AuditEvent.__table__
            session.execute(table.update().where(table.c.id == bindparam("event_id"), table.c.hash.is_(None))
                            .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"),
                                    hash=bindparam("digest")), sealed)
            for event in written:
                session.expire(event, ["chain_seq", "prev_hash", "hash"])
        for event in unwritten:  # in the order they were recorded, which is the order they are inserted
            if event.at is None:
                event.at = utcnow()
            seq += 1
            event.chain_seq, event.prev_hash = seq, prev
            event.hash = prev = _event_hash(event, seq, prev)


_SEAL_CALL = text("SELECT event_id, seq, prev, digest FROM audit_seal(CAST(:events AS json))")


def _seal_on_server(session: Session, written: list[AuditEvent], unwritten: list[AuditEvent]) -> None:
    """PostgreSQL: everything else the transaction changed is written first, then one call of
    `audit_seal` (migration 7c41e9a2d3b8) takes the chain's lock, reads its head, hashes and writes the
    events, and the COMMIT goes in the same message (`_seal_and_commit`): the lock is taken and released
    on the server, never held across the whole flush or a wait for Python (under load, every writer
    queued behind it). The hashed text is the one `content_parts` builds; the server only puts the
    previous hash and the place in the chain between its parts."""
    for event in unwritten:  # the function inserts these: the flush must not
        session.expunge(event)
    session.flush()
    events = written + unwritten
    for event in unwritten:
        if event.at is None:
            event.at = utcnow()
    parts = [content_parts(at=e.at, actor_id=e.actor_id, action=e.action, record_type=e.record_type,
                           record_id=e.record_id, via=e.via, ip=e.ip, details=e.details) for e in events]
    new = set(map(id, unwritten))
    # One JSON document (json.dumps is C): text arrays cost psycopg a regular expression an element.
    # `details` goes in as the object it is (stored as this JSON); the hashed parts carry their own encoding.
    document = json.dumps([
        {"id": None if id(e) in new else e.id, "at": e.at.isoformat(), "actor_id": e.actor_id, "action": e.action,
         "record_type": e.record_type, "record_id": e.record_id, "via": e.via, "ip": e.ip, "details": e.details,
         "head": head, "middle": middle, "tail": tail}
        for e, (head, middle, tail) in zip(events, parts, strict=True)], default=str)
    connection = session.connection()
    if connection.in_nested_transaction():
        # The session works inside a transaction it does not own (the test suite's rolled-back outer
        # transaction, where its commits release savepoints): seal, and leave the commit to its owner.
        rows = [tuple(row) for row in session.execute(_SEAL_CALL, {"events": document})]
    else:
        rows = _seal_and_commit_or_raise(connection, document)
    for event, (event_id, seq, prev, digest) in zip(events, rows, strict=True):
        if id(event) in new:
            event.id, event.chain_seq, event.prev_hash, event.hash = event_id, seq, prev, digest
            make_transient_to_detached(event)  # as if loaded: no changes for the ORM to write
            session.add(event)
        else:
            for name, value in (("chain_seq", seq), ("prev_hash", prev), ("hash", digest)):
                set_committed_value(event, name, value)


def _seal_and_commit_or_raise(connection, document: str) -> list[tuple]:
    """_seal_and_commit on the session's connection. It talks to the driver directly, so SQLAlchemy does not
    see its errors: a dropped connection here would surface as the driver's own exception (a 500). It is
    raised as SQLAlchemy's, with the connection invalidated (the pool replaces it), so the app's handler
    answers the friendly 503 like any other database failure."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    try:
        return _seal_and_commit(connection.connection.driver_connection, document)
    except psycopg.Error as error:
        lost = isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) or error.sqlstate is None
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance("SELECT audit_seal(...); COMMIT", None, error, psycopg.Error,
                                  connection_invalidated=lost) from error


def _seal_and_commit(raw, document: str) -> list[tuple]:
    """The seal and the COMMIT in one message to the server (two statements in one simple query), so the
    chain's lock is taken and released without a round trip to Python in between: under load, a Python
    thread waiting for the interpreter while it held the lock kept every writer of the app waiting. The
    session's own commit then finds the transaction committed (psycopg's commit of an idle connection
    does nothing); this runs last in the commit, when everything else is flushed. The events' JSON goes
    in as a literal (simple queries take no parameters), composed and quoted by psycopg.sql."""
    from psycopg import sql

    query = sql.SQL("SELECT event_id, seq, prev, digest FROM audit_seal({}::json); COMMIT").format(
        sql.Literal(document))
    with raw.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchall()


def _head(session: Session) -> tuple[int, str]:
    """Take the chain's lock (until this transaction ends) and read its last link."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = session.execute(
        select(AuditEvent.chain_seq, AuditEvent.hash).where(AuditEvent.chain_seq.is_not(None))
        .order_by(AuditEvent.chain_seq.desc()).limit(1)).first()
    return (last.chain_seq, last.hash) if last else (0, GENESIS)


SEALED_COLUMNS = ("at", "actor_id", "action", "record_type", "record_id", "via", "ip", "details",
                  "chain_seq", "prev_hash", "hash")


class _Encoded(dict):
    """JSON of values that repeat across a batch of events (an action, an actor, a time), encoded once."""

    def __missing__(self, value):
        encoded = self[value] = _JSON.encode(value)
        return encoded


def insert_sealed(session: Session, rows: Iterable[dict]) -> None:
    """Insert many events already sealed (the set-based import's): one COPY instead of an INSERT and an
    UPDATE each. Call it as the transaction's last large write: the chain's lock is held from here to the
    commit. Each row holds the columns of `audit.services.event_row` plus `at`. The hashed JSON is the
    one `content_parts` builds, assembled from the encodings of values that repeat across the batch
    (tests/audit/test_chain.py checks the two agree)."""
    session.flush()
    head = []
    enc = _Encoded()
    stamps = {}

    def sealed() -> Iterator[tuple]:
        seq, prev = head
        for row in rows:
            seq += 1
            at, details, record_id = row["at"], row["details"], row["record_id"]
            stamp = stamps.get(at) or stamps.setdefault(at, _JSON.encode(at.isoformat(timespec="microseconds")))
            details_json = _JSON.encode(details)
            digest = hashlib.sha256(
                f'{{"action":{enc[row["action"]]},"actor_id":{enc[row["actor_id"]]},"at":{stamp},'
                f'"details":{details_json},"ip":{enc[row["ip"]]},"prev":"{prev}","record_id":'
                f'{record_id if type(record_id) is int else _JSON.encode(record_id)},'
                f'"record_type":{enc[row["record_type"]]},"seq":{seq},"via":{enc[row["via"]]}}}'.encode()).hexdigest()
            yield (at, row["actor_id"], row["action"], row["record_type"], record_id, row["via"], row["ip"],
                   RawJSON(details_json) if details is not None else None, seq, prev, digest)
            prev = digest

    head.extend(_head(session))
    insert_rows(AuditEvent.__table__, SEALED_COLUMNS, sealed())


def discard_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


@dataclass
class Verdict:
    ok: bool
    checked: int
    broken_at: int | None = None  # chain_seq (or event id, for an unsealed event) of the first bad link
    event_id: int | None = None
    reason: str | None = None


def _walk(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.chain_seq > after)
                               .order_by(AuditEvent.chain_seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].chain_seq  # type: ignore[assignment]
        session.expunge_all()


def verify(session: Session) -> Verdict:
    """Walk the chain in order; the first event whose link or content does not match is reported."""
    unsealed = session.scalar(select(AuditEvent.id).where(AuditEvent.hash.is_(None)).order_by(AuditEvent.id).limit(1))
    expected_seq, prev, checked = 1, GENESIS, 0
    for event in _walk(session):
        if event.chain_seq != expected_seq:
            return Verdict(False, checked, expected_seq, event.id,
                           f"event {expected_seq} of the chain is missing (next is {event.chain_seq})")
        if event.prev_hash != prev:
            return Verdict(False, checked, event.chain_seq, event.id, "it does not link to the event before it")
        if _event_hash(event, event.chain_seq, prev) != event.hash:
            return Verdict(False, checked, event.chain_seq, event.id, "its content does not match its hash")
        prev = event.hash  # type: ignore[assignment]
        expected_seq += 1
        checked += 1
    if unsealed is not None:
        return Verdict(False, checked, None, unsealed, "it was written without being sealed into the chain")
    return Verdict(True, checked)


@sa_event.listens_for(Session, "before_commit")
def _seal_on_commit(session: Session) -> None:
    # before_commit also fires when a savepoint is released: its events are sealed with the rest of the
    # transaction, when the real commit comes (one lock and one read of the chain's head a transaction).
    if session.in_nested_transaction():
        return
    seal_pending(session)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _transaction) -> None:
    # After any rollback, a savepoint's included, the events still pending are those still in the session:
    # a savepoint's rollback drops only its own events, not those the transaction recorded before it.
    # (after_rollback would be too early: it fires before the rolled-back objects are expunged.)
    pending = session.info.get(_PENDING)
    if pending:
        kept = [e for e in pending if e in session]
        if kept:
            session.info[_PENDING] = kept
        else:
            discard_pending(session)
