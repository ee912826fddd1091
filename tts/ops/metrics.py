"""Prometheus metrics (`GET /metrics`). The names below are a contract: dashboards and the alert rules in
deploy/alerts.yml rely on them (docs/operations.md lists each). No label carries personal data: labels are
route names, methods, status codes, bands and lane names.

Two kinds:
- Counted as requests run (request counts and durations, sign-in failures, the database pool): prometheus_client
  objects. Under gunicorn each worker process writes its own file in PROMETHEUS_MULTIPROC_DIR (set by
  gunicorn.conf.py) and a scrape adds them up, whichever process answers it.
- Read from the database when scraped (the queue, the outbox, the workers' heartbeats, the audit chain's
  unsealed tail): the same for every server, so any server's /metrics gives them.
"""
import os
import time
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_DURATION = Histogram("tts_http_request_duration_seconds", "Time to answer a request, by route and status",
                             ("endpoint", "method", "status"), buckets=LATENCY_BUCKETS)
REQUESTS = Counter("tts_http_requests", "Requests answered, by route and status", ("endpoint", "method", "status"))
SIGNIN_FAILURES = Counter("tts_signin_failures", "Failed sign-in attempts, by step (password, code, enrol)",
                          ("stage",))
POOL_CHECKED_OUT = Gauge("tts_db_pool_checked_out", "Database connections in use by the web processes",
                         multiprocess_mode="livesum")
POOL_SIZE = Gauge("tts_db_pool_size", "Database connections the web processes' pools hold open",
                  multiprocess_mode="livesum")
JOBS_RUN = Counter("tts_worker_jobs", "Background jobs run, by job and result", ("job", "result"))


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    labels = (endpoint, method, str(status))
    REQUEST_DURATION.labels(*labels).observe(seconds)
    REQUESTS.labels(*labels).inc()
    try:
        from tts.extensions import db

        pool = db.engine.pool
        POOL_CHECKED_OUT.set(pool.checkedout())
        POOL_SIZE.set(pool.checkedin() + pool.checkedout())
    except Exception:  # noqa: BLE001  (a pool without counts, such as SQLite's; or no app: nothing to report)
        pass


def signin_failed(stage: str) -> None:
    SIGNIN_FAILURES.labels(stage).inc()


def job_ran(name: str, result: str) -> None:
    JOBS_RUN.labels(name, result).inc()


class DatabaseFigures(Collector):
    """The figures read from the database at scrape time (computed before the scrape is written)."""

    def __init__(self, families: list[GaugeMetricFamily]):
        self.families = families

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self.families


class _Registered(Collector):
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        yield from self.registry.collect()


def database_figures() -> list[GaugeMetricFamily]:
    from sqlalchemy import func, or_, select

    from tts.audit.models import AuditEvent
    from tts.clock import utcnow
    from tts.extensions import db
    from tts.ops.heartbeats import last_runs
    from tts.supervision.services import oldest_waiting, overdue_count, queue_depth
    from tts.telephony.models import Message

    now = utcnow()
    families = []
    waiting = GaugeMetricFamily("tts_queue_waiting", "Work items due now and not held, by band", labels=["band"])
    depth = queue_depth(now)
    for band in (1, 2, 3):
        waiting.add_metric([str(band)], depth.get(band, 0))
    families.append(waiting)
    oldest = oldest_waiting(now)
    families.append(GaugeMetricFamily("tts_queue_oldest_waiting_seconds",
                                      "How long the longest-waiting due item has been due (0: none waiting)",
                                      value=max(0.0, (now - oldest.due_at).total_seconds()) if oldest else 0.0))
    families.append(GaugeMetricFamily("tts_queue_overdue", "Items waiting longer than TTS_OVERDUE_MINUTES",
                                      value=overdue_count(now)))
    # Not yet handed to Twilio: due and queued, or taken by a worker that has not had Twilio's answer. (A text
    # Twilio accepted stays "sending" until its delivery report: that is Twilio's queue, not ours.)
    due = (Message.direction == "outbound", Message.twilio_sid.is_(None), or_(
        Message.status == "sending",
        (Message.status == "queued") & or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now)))
    pending, oldest_pending = db.session.execute(
        select(func.count(), func.min(func.coalesce(Message.next_attempt_at, Message.created_at))).where(*due)).one()
    families.append(GaugeMetricFamily("tts_outbox_pending", "Texts due to go that have not been sent yet",
                                      value=pending or 0))
    families.append(GaugeMetricFamily("tts_outbox_oldest_pending_seconds",
                                      "How long the longest-waiting due text has waited (0: none)",
                                      value=max(0.0, (now - oldest_pending).total_seconds()) if oldest_pending else 0.0))
    families.append(GaugeMetricFamily(
        "tts_outbox_failed", "Texts that failed or were undelivered in the last 24 hours",
        value=db.session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "outbound", Message.status.in_(("failed", "undelivered")),
            func.coalesce(Message.status_updated_at, Message.created_at) >= now - timedelta(hours=24))) or 0))
    lanes = GaugeMetricFamily("tts_worker_lane_last_run_seconds",
                              "Seconds since any worker last finished a pass of this lane", labels=["lane"])
    for lane, at in last_runs().items():
        lanes.add_metric([lane], max(0.0, (now - at).total_seconds()))
    families.append(lanes)
    from tts.letters.models import Letter
    from tts.outbreaks.models import Outbreak

    waiting_letters, oldest_letter = db.session.execute(
        select(func.count(), func.min(Letter.email_requested_at))
        .where(Letter.email_status.in_(("pending", "sending")))).one()
    families.append(GaugeMetricFamily("tts_letters_email_waiting", "Letters asked to be emailed and not sent yet",
                                      value=waiting_letters or 0))
    families.append(GaugeMetricFamily("tts_letters_email_oldest_waiting_seconds",
                                      "How long the longest-waiting letter has waited to be emailed (0: none)",
                                      value=max(0.0, (now - oldest_letter).total_seconds()) if oldest_letter else 0.0))
    families.append(GaugeMetricFamily(
        "tts_letters_email_failed", "Letters whose email failed, asked for in the last 24 hours",
        value=db.session.scalar(select(func.count()).select_from(Letter).where(
            Letter.email_status == "failed", Letter.email_requested_at >= now - timedelta(hours=24))) or 0))
    families.append(GaugeMetricFamily("tts_outbreaks_live", "Outbreaks open or being monitored",
                                      value=db.session.scalar(select(func.count()).select_from(Outbreak).where(
                                          Outbreak.status != "closed")) or 0))
    unsealed, first_unsealed = db.session.execute(
        select(func.count(), func.min(AuditEvent.at)).where(AuditEvent.hash.is_(None))).one()
    families.append(GaugeMetricFamily("tts_audit_unsealed", "Audit events written but not yet sealed into the chain",
                                      value=unsealed or 0))
    families.append(GaugeMetricFamily("tts_audit_oldest_unsealed_seconds",
                                      "Age of the oldest audit event not yet sealed (0: none)",
                                      value=max(0.0, (now - first_unsealed).total_seconds()) if first_unsealed else 0.0))
    return families


def exposition() -> bytes:
    """The whole scrape: every process's counters (multiprocess mode under gunicorn) and the database's figures.
    If the database does not answer, the counters are still given, with tts_database_up 0."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Registered(REGISTRY))
    started = time.perf_counter()
    try:
        families = database_figures()
        up = 1
    except Exception:  # noqa: BLE001  (any database failure: say so in the figures, never a 500 to the scraper)
        from tts.extensions import db

        db.session.rollback()
        families, up = [], 0
    families.append(GaugeMetricFamily("tts_database_up", "1 when the database answered this scrape's queries",
                                      value=up))
    families.append(GaugeMetricFamily("tts_metrics_scrape_seconds", "Time to read this scrape's database figures",
                                      value=time.perf_counter() - started))
    registry.register(DatabaseFigures(families))
    return generate_latest(registry)
