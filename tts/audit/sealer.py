"""The chain's sealer: the worker's audit lane runs `audit_sealed` every TTS_AUDIT_SEAL_INTERVAL_SECONDS (1 s),
sealing committed events into the chain a batch a transaction until none are left (tts/audit/chain.py).
Several workers may run it: one seals at a time (the chain's lock), the others find the lock taken and go
on. `flask audit seal` runs it by hand."""
from tts.audit.chain import BATCH, seal_batch
from tts.extensions import db
from tts.jobs import job


@job("audit_sealed", lane="audit")
def seal_committed_events():
    """Seal every committed unsealed event, a batch a transaction (each batch's commit releases the lock, so
    a long tail never holds it for long). Yields after each batch: the job runner commits there."""
    total = 0
    while True:
        sealed = seal_batch(db.session(), limit=BATCH)
        total += sealed
        if sealed < BATCH:
            return total
        yield "a batch of audit events is sealed: commit it and let the chain's lock go"
