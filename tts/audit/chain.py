"""Tamper evidence for the audit log: a hash chain.

Each event is sealed with the next `chain_seq`, the previous event's hash and a SHA-256 over its own content
plus that previous hash. Changing, deleting or inserting an event afterwards breaks the chain at that point,
and `flask audit verify` names the first broken link.

Writers never wait for the chain. An event is written unsealed, in the writer's own transaction, like any
other row (so it exists only if the change it records does), and takes no lock. One sealer at a time (the
worker's audit lane, every second: tts/audit/sealer.py) takes the chain's advisory lock, reads the chain's
head, and seals the committed unsealed events in the order of their ids, a few thousand a transaction, then
lets the lock go. So no request, on any server, queues behind another for the chain, and a bulk import that
writes 100,000 events holds nothing: they are sealed in batches after it commits. Until an event is sealed
(about a second), it is reported as the chain's unsealed tail (`audit verify`, and the metric
tts_audit_unsealed).

TTS_AUDIT_SEAL_AT_COMMIT seals a transaction's events inside it instead, just before it commits, taking the
lock for the rest of the commit: the test suite uses it so that every test sees its events sealed at once
(it runs the same sealing code), and it suits a single-user command line with no worker. Both hash the same
text; SQLite and PostgreSQL alike. Events from a rolled-back savepoint never reach the chain: they were never
written.
"""
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, event as sa_event, func, select, text
from sqlalchemy.orm import Session

from tts.audit.models import AuditEvent
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


def track(session: Session, event: AuditEvent | None = None) -> None:
    """Note that this transaction wrote audit events (sealed at its commit when TTS_AUDIT_SEAL_AT_COMMIT)."""
    session.info[_PENDING] = True


def _head(session: Session) -> tuple[int, str]:
    last = session.execute(
        select(AuditEvent.chain_seq, AuditEvent.hash).where(AuditEvent.chain_seq.is_not(None))
        .order_by(AuditEvent.chain_seq.desc()).limit(1)).first()
    return (last.chain_seq, last.hash) if last else (0, GENESIS)


def take_chain_lock(session: Session, *, wait: bool) -> bool:
    """The chain's lock, until this transaction ends; False if another sealer has it (unless `wait`). SQLite
    needs none: a write transaction there already holds the database's only write lock."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}))


_SEAL_READS = (AuditEvent.id, AuditEvent.at, AuditEvent.actor_id, AuditEvent.action, AuditEvent.record_type,
                     AuditEvent.record_id, AuditEvent.via, AuditEvent.ip, AuditEvent.details)


BATCH = 5000  # events sealed in one transaction: the lock is held for about 0.1 s


def seal_batch(session: Session, *, limit: int = BATCH, wait: bool = False) -> int:
    """Seal up to `limit` of the unsealed events this transaction can see (committed ones, and its own), in
    id order, after the chain's head. Returns how many; 0 also when another sealer holds the lock (it will
    seal them). The caller commits: that releases the lock."""
    if not take_chain_lock(session, wait=wait):
        return 0
    rows = session.execute(select(*_SEAL_READS).where(AuditEvent.hash.is_(None))
                           .order_by(AuditEvent.id).limit(limit)).all()
    if not rows:
        return 0
    seq, prev = _head(session)
    ids, seqs, prevs, digests = [], [], [], []
    enc = _Encoded()
    for row in rows:
        seq += 1
        digest = _hash_row(enc, row, seq, prev)
        ids.append(row.id)
        seqs.append(seq)
        prevs.append(prev)
        digests.append(digest)
        prev = digest
    table = AuditEvent.__table__
    if session.get_bind().dialect.name == "postgresql":
        # One statement for the batch: the arrays are unnested into rows and joined to the events by id.
        done = session.execute(text(
            "UPDATE audit_events AS a SET chain_seq = v.seq, prev_hash = v.prev, hash = v.digest "
            "FROM unnest(CAST(:ids AS integer[]), CAST(:seqs AS integer[]), CAST(:prevs AS text[]), "
            "CAST(:digests AS text[])) AS v(id, seq, prev, digest) WHERE a.id = v.id AND a.hash IS NULL"),
            {"ids": ids, "seqs": seqs, "prevs": prevs, "digests": digests}).rowcount
    else:
        done = session.execute(table.update().where(table.c.id == bindparam("event_id"), table.c.hash.is_(None))
                               .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"),
                                       hash=bindparam("digest")),
                               [{"event_id": i, "seq": q, "prev": p, "digest": d}
                                for i, q, p, d in zip(ids, seqs, prevs, digests, strict=True)]).rowcount
    if done != len(ids):  # only a second sealer without the lock could cause this: never seal half a batch
        raise RuntimeError(f"sealed {done} of {len(ids)} audit events: another sealer ran without the lock")
    # Events this session holds were changed around the ORM: read their seal again when next used.
    held = {e.id: e for e in session.identity_map.values() if isinstance(e, AuditEvent)}
    for event_id in ids:
        if event_id in held:
            session.expire(held[event_id], ["chain_seq", "prev_hash", "hash"])
    return len(ids)


def _hash_row(enc: "_Encoded", row, seq: int, prev: str) -> str:
    """The hash `content_hash` gives, built from encodings of values that repeat across a batch (an action, an
    actor, a time) taken once (tests/audit/test_chain.py checks the two agree)."""
    at, record_id = row.at, row.record_id
    return hashlib.sha256(
        f'{{"action":{enc[row.action]},"actor_id":{enc[row.actor_id]},"at":{enc.stamp(at)},'
        f'"details":{_JSON.encode(row.details)},"ip":{enc[row.ip]},"prev":"{prev}","record_id":'
        f'{record_id if type(record_id) is int else _JSON.encode(record_id)},'
        f'"record_type":{enc[row.record_type]},"seq":{seq},"via":{enc[row.via]}}}'.encode()).hexdigest()


def seal_pending(session: Session) -> None:
    """TTS_AUDIT_SEAL_AT_COMMIT: seal this transaction's events (and any committed ones still unsealed) inside
    it, waiting for the chain's lock, just before it commits."""
    if not session.info.pop(_PENDING, None):
        return
    session.flush()
    while seal_batch(session, limit=BATCH, wait=True) == BATCH:
        pass


class _Encoded(dict):
    """JSON of values that repeat across a batch of events (an action, an actor, a time), encoded once."""

    def __missing__(self, value):
        encoded = self[value] = _JSON.encode(value)
        return encoded

    def stamp(self, at) -> str:
        key = ("at", at)
        found = self.get(key)
        if found is None:
            found = self[key] = _JSON.encode(at.isoformat(timespec="microseconds"))
        return found


UNSEALED_COLUMNS = ("at", "actor_id", "action", "record_type", "record_id", "via", "ip", "details")


def insert_unsealed(session: Session, rows: Iterable[dict]) -> None:
    """Insert many events (the set-based import's) in one COPY, unsealed: the sealer seals them after the
    transaction commits, so the import holds no lock on the chain. Each row holds the columns of
    `audit.services.event_row` plus `at`."""
    insert_rows(AuditEvent.__table__, UNSEALED_COLUMNS,
                ((row["at"], row["actor_id"], row["action"], row["record_type"], row["record_id"], row["via"],
                  row["ip"], RawJSON(_JSON.encode(row["details"])) if row["details"] is not None else None)
                 for row in rows))
    track(session)


def discard_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


@dataclass
class Verdict:
    ok: bool
    checked: int
    broken_at: int | None = None  # chain_seq of the first bad link
    event_id: int | None = None
    reason: str | None = None
    unsealed: int = 0  # events written but not sealed yet: the sealer's tail, not a break
    oldest_unsealed_at: datetime | None = None


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
    """Walk the chain in order; the first event whose link or content does not match is reported. Events
    not sealed yet are counted as the tail (the sealer seals them within seconds of their commit)."""
    unsealed, oldest = session.execute(select(func.count(), func.min(AuditEvent.at))
                                       .where(AuditEvent.hash.is_(None))).one()
    tail = {"unsealed": unsealed or 0, "oldest_unsealed_at": oldest}
    expected_seq, prev, checked = 1, GENESIS, 0
    for event in _walk(session):
        if event.chain_seq != expected_seq:
            return Verdict(False, checked, expected_seq, event.id,
                           f"event {expected_seq} of the chain is missing (next is {event.chain_seq})", **tail)
        if event.prev_hash != prev:
            return Verdict(False, checked, event.chain_seq, event.id, "it does not link to the event before it",
                           **tail)
        if _event_hash(event, event.chain_seq, prev) != event.hash:
            return Verdict(False, checked, event.chain_seq, event.id, "its content does not match its hash", **tail)
        prev = event.hash  # type: ignore[assignment]
        expected_seq += 1
        checked += 1
    return Verdict(True, checked, **tail)


def _seal_at_commit() -> bool:
    from flask import current_app, has_app_context

    return has_app_context() and bool(current_app.config.get("TTS_AUDIT_SEAL_AT_COMMIT"))


@sa_event.listens_for(Session, "before_commit")
def _seal_on_commit(session: Session) -> None:
    # before_commit also fires when a savepoint is released: its events are sealed with the rest of the
    # transaction, when the real commit comes (one lock and one read of the chain's head a transaction).
    if session.in_nested_transaction() or not session.info.get(_PENDING):
        return
    if _seal_at_commit():
        seal_pending(session)
    else:
        discard_pending(session)  # the sealer seals them after this commit


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, transaction) -> None:
    # Only the whole transaction's rollback: a savepoint's leaves the events recorded before it to be sealed.
    if not transaction.nested and transaction.parent is None:
        discard_pending(session)
