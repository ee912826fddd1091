"""audit events sealed by one database call: audit_seal() takes the chain's lock, reads its head, hashes
and writes the transaction's events, all on the server

Before, a committing transaction took the chain's advisory lock, read the head, then flushed its own
writes (the events and everything else) and committed: every write of the app queued behind one lock
held across several round trips to Python. Under the load test 15 of 50 connections were waiting on it
(docs/benchmarks.md). Now the transaction flushes everything else first, then one call of this function
takes the lock, seals and inserts the events (or seals those an earlier flush wrote), and the commit
follows: the lock spans one round trip. The events come as one JSON array (their columns, and for those
an earlier flush wrote, their id). The hash is the one tts/audit/chain.py computes: Python sends
each event's hashed JSON in three parts around the two values known only under the lock (the previous hash
and the place in the chain), and SHA-256 is taken here over the same UTF-8 text. PostgreSQL only:
SQLite's write lock already serialises its transactions, and Python seals them there.

Revision ID: 7c41e9a2d3b8
Revises: e5a0c1d2b7f4
Create Date: 2026-12-04 15:00:00

"""
from alembic import op

revision = "7c41e9a2d3b8"
down_revision = "e5a0c1d2b7f4"
branch_labels = None
depends_on = None

# 7317001 is tts.audit.chain._LOCK_KEY, the lock the set-based import also takes.
AUDIT_SEAL = """
CREATE OR REPLACE FUNCTION audit_seal(events json)
RETURNS TABLE (event_id integer, seq integer, prev text, digest text) AS $$
DECLARE
    last_seq integer;
    last_hash text;
    e json;
BEGIN
    PERFORM pg_advisory_xact_lock(7317001);
    -- A new snapshot for this statement (the function is volatile): it sees the last transaction that
    -- held the lock, which released it only after its commit became visible.
    SELECT a.chain_seq, a.hash INTO last_seq, last_hash FROM audit_events a
    WHERE a.chain_seq IS NOT NULL ORDER BY a.chain_seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    FOR e IN SELECT value FROM json_array_elements(events) WITH ORDINALITY ORDER BY ordinality LOOP
        last_seq := last_seq + 1;
        seq := last_seq;
        prev := last_hash;
        digest := encode(sha256(convert_to(
            (e->>'head') || '"' || last_hash || '"' || (e->>'middle') || last_seq::text || (e->>'tail'),
            'UTF8')), 'hex');
        IF json_typeof(e->'id') = 'null' THEN
            INSERT INTO audit_events (at, actor_id, action, record_type, record_id, via, ip, details,
                                      chain_seq, prev_hash, hash)
            VALUES ((e->>'at')::timestamptz, (e->>'actor_id')::integer, e->>'action', e->>'record_type',
                    (e->>'record_id')::integer, e->>'via', e->>'ip',
                    CASE WHEN json_typeof(e->'details') = 'null' THEN NULL ELSE e->'details' END,
                    seq, prev, digest)
            RETURNING id INTO event_id;
        ELSE
            event_id := (e->>'id')::integer;
            UPDATE audit_events SET chain_seq = seq, prev_hash = prev, hash = digest
            WHERE id = event_id AND hash IS NULL;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'audit event % is not waiting to be sealed', event_id;
            END IF;
        END IF;
        last_hash := digest;
        RETURN NEXT;
    END LOOP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(AUDIT_SEAL)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION audit_seal(json)")
