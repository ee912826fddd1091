"""Configuration classes; everything secret or deployment-specific comes from the environment."""
import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def database_url(default: str | None = None) -> str:
    """DATABASE_URL, with Heroku-style postgres:// URLs pointed at the psycopg 3 driver."""
    return driver_url(os.environ.get("DATABASE_URL") or default or f"sqlite:///{BASE_DIR / 'instance' / 'tts.db'}")


def driver_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    TTS_ENVIRONMENT = "production"  # development and testing allow the demo data; nothing else does
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url()
    # hide_parameters: a database error logged with its statement never carries the values (personal data).
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
    # A pooled connection idle this long is pinged before use, and replaced if the database dropped it (a
    # restart, a failover). One used moments ago is not: under load, a ping on every request was a round
    # trip each (tts/db_pool.py). 0 pings at every checkout.
    TTS_DB_PING_AFTER_IDLE_SECONDS = float(os.environ.get("TTS_DB_PING_AFTER_IDLE_SECONDS", "10"))
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the session cookie's life bounds the token instead
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    TTS_PUBLIC_URL = os.environ.get("TTS_PUBLIC_URL", "http://127.0.0.1:5000")
    TTS_TIMEZONE = "Europe/London"
    TTS_PROXY_COUNT = int(os.environ.get("TTS_PROXY_COUNT", "0"))
    TTS_API_TOKEN_DAYS = int(os.environ.get("TTS_API_TOKEN_DAYS", "90"))
    PASSWORD_HASH_METHOD = "scrypt"

    # Running it (docs/operations.md): logs, metrics.
    TTS_LOG_FORMAT = os.environ.get("TTS_LOG_FORMAT", "text")  # json: one JSON object a line (production's default)
    TTS_LOG_LEVEL = os.environ.get("TTS_LOG_LEVEL", "info")
    TTS_METRICS_TOKEN = os.environ.get("TTS_METRICS_TOKEN") or None  # Prometheus sends Authorization: Bearer ...
    TTS_METRICS_ALLOW = os.environ.get("TTS_METRICS_ALLOW", "127.0.0.1/32,::1/128")  # addresses that need no token
    # The audit chain (tts/audit/chain.py): the worker seals committed events this often. AT_COMMIT=1 seals each
    # transaction's events inside it instead (one writer at a time at the chain's lock: the tests, or a
    # command line with no worker running).
    TTS_AUDIT_SEAL_INTERVAL_SECONDS = float(os.environ.get("TTS_AUDIT_SEAL_INTERVAL_SECONDS", "1"))
    TTS_AUDIT_SEAL_AT_COMMIT = os.environ.get("TTS_AUDIT_SEAL_AT_COMMIT") == "1"

    # Sign-in and sessions (docs/security.md).
    TTS_SESSION_IDLE_MINUTES = int(os.environ.get("TTS_SESSION_IDLE_MINUTES", "30"))
    TTS_SESSION_MAX_HOURS = int(os.environ.get("TTS_SESSION_MAX_HOURS", "12"))
    TTS_SESSION_WARN_MINUTES = int(os.environ.get("TTS_SESSION_WARN_MINUTES", "5"))  # warn before idle sign-out
    TTS_SIGNIN_MAX_FAILURES_ACCOUNT = int(os.environ.get("TTS_SIGNIN_MAX_FAILURES_ACCOUNT", "5"))
    TTS_SIGNIN_MAX_FAILURES_ADDRESS = int(os.environ.get("TTS_SIGNIN_MAX_FAILURES_ADDRESS", "20"))
    TTS_SIGNIN_WINDOW_MINUTES = int(os.environ.get("TTS_SIGNIN_WINDOW_MINUTES", "15"))
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI")  # e.g. redis://127.0.0.1:6379/0
    TTS_MFA_REPLAY_GUARD = True  # a one-time code works once
    TTS_DASHBOARD_CACHE_SECONDS = int(os.environ.get("TTS_DASHBOARD_CACHE_SECONDS", "20"))
    TTS_KPI_CACHE_SECONDS = int(os.environ.get("TTS_KPI_CACHE_SECONDS", "300"))
    TTS_DASHBOARD_REFRESH_SECONDS = int(os.environ.get("TTS_DASHBOARD_REFRESH_SECONDS", "30"))
    TTS_RETENTION_DAYS = int(os.environ.get("TTS_RETENTION_DAYS", "90"))
    MAX_CONTENT_LENGTH = int(os.environ.get("TTS_MAX_UPLOAD_MB", "50")) * 1024 * 1024
    PERMANENT_SESSION_LIFETIME = 12 * 3600  # the cookie's own life; the server-side session decides sooner
    TTS_HSTS = False

    # The call queue's rules (docs/queue.md).
    TTS_CALLING_HOURS = os.environ.get("TTS_CALLING_HOURS", "08:00-20:00")  # Europe/London
    TTS_QUEUE_POLICY = os.environ.get("TTS_QUEUE_POLICY", "tts")  # or fifo: no bands, household calls or raise
    TTS_MAX_COMPANIONS = int(os.environ.get("TTS_MAX_COMPANIONS", "5"))  # others claimed with one call
    TTS_CLAIM_LEASE_MINUTES = int(os.environ.get("TTS_CLAIM_LEASE_MINUTES", "20"))
    TTS_MAX_FAILED_ATTEMPTS = int(os.environ.get("TTS_MAX_FAILED_ATTEMPTS", "3"))
    TTS_ESCALATE_AFTER_HOURS = int(os.environ.get("TTS_ESCALATE_AFTER_HOURS", "24"))
    TTS_RETRY_DELAYS_HOURS = os.environ.get("TTS_RETRY_DELAYS_HOURS", "2,4")  # then next morning
    TTS_OVERDUE_MINUTES = int(os.environ.get("TTS_OVERDUE_MINUTES", "60"))  # waiting this long = overdue
    TTS_IDLE_MINUTES = int(os.environ.get("TTS_IDLE_MINUTES", "30"))  # on shift, no call, work waiting
    TTS_PLANNER_MAX_CASES = int(os.environ.get("TTS_PLANNER_MAX_CASES", "2000"))  # cases a day, planner page
    TTS_IMPORT_INLINE_MAX_ROWS = int(os.environ.get("TTS_IMPORT_INLINE_MAX_ROWS", "2000"))  # larger: background
    # The most rows one file may hold (the upload limit alone would let through five times that).
    TTS_IMPORT_MAX_ROWS = int(os.environ.get("TTS_IMPORT_MAX_ROWS", "100000"))
    # An import applies and writes a file this many rows at a time, in its one transaction, holding one part
    # in memory rather than the whole file (tts/imports/bulk.py, SetBased.end_chunk).
    TTS_IMPORT_CHUNK_ROWS = int(os.environ.get("TTS_IMPORT_CHUNK_ROWS", "5000"))
    # Imports apply the app's rules to the whole file in memory and write it in a few multi-row INSERTs
    # (tts/imports/bulk.py, tested to write exactly what the row-by-row services write); 0 = one service
    # call a row, the reference behaviour (about 60x slower).
    TTS_IMPORT_SET_BASED = os.environ.get("TTS_IMPORT_SET_BASED", "1") == "1"
    # CSV exports on PostgreSQL are written by COPY (tts/reports/copy_csv.py); that one statement may run
    # this long (the web role's own limit is 30 s in production) so that a large export is not cut off.
    TTS_EXPORT_CSV_WITH_COPY = os.environ.get("TTS_EXPORT_CSV_WITH_COPY", "1") == "1"
    TTS_EXPORT_STATEMENT_TIMEOUT_SECONDS = int(os.environ.get("TTS_EXPORT_STATEMENT_TIMEOUT_SECONDS", "600"))
    # A read replica for exports (COPY and the spreadsheets' reads), so that a large export runs on other
    # cores than the call queue's (docs/benchmarks.md). Unset: exports read the main database.
    TTS_REPORTING_DATABASE_URL = os.environ.get("TTS_REPORTING_DATABASE_URL") or None
    # Extra PostgreSQL parallel workers a report's query (export, KPI figures) may take: 0 keeps a report on
    # one core, so the call queue keeps the others; raise it when reports read from a replica of their own.
    TTS_REPORT_PARALLEL_WORKERS = int(os.environ.get("TTS_REPORT_PARALLEL_WORKERS", "0"))
    # How much lower the worker's slow lane (KPI figures, large spreadsheets, planner runs) runs than the
    # rest (Linux nice steps, 0 to 19): it takes the CPU the web processes leave over.
    TTS_SLOW_JOBS_NICE = int(os.environ.get("TTS_SLOW_JOBS_NICE", "10"))
    # XLSX exports larger than this are built by the worker with a progress page; files kept this long.
    TTS_EXPORT_INLINE_MAX_ROWS = int(os.environ.get("TTS_EXPORT_INLINE_MAX_ROWS", "100000"))
    TTS_EXPORT_KEEP_HOURS = int(os.environ.get("TTS_EXPORT_KEEP_HOURS", "24"))
    TTS_SUPPRESSION_THRESHOLD = int(os.environ.get("TTS_SUPPRESSION_THRESHOLD", "5"))  # published tables

    # The accessibility statement (/accessibility): who runs this service and how to report a problem.
    TTS_ORGANISATION_NAME = os.environ.get("TTS_ORGANISATION_NAME", "the council's public health team")
    TTS_ACCESSIBILITY_EMAIL = os.environ.get("TTS_ACCESSIBILITY_EMAIL", "accessibility@council.example")
    TTS_ACCESSIBILITY_STATEMENT_DATE = os.environ.get("TTS_ACCESSIBILITY_STATEMENT_DATE", "23 November 2026")

    # Texts and calls (docs/twilio.md). Without TWILIO_ACCOUNT_SID a simulated gateway is used.
    # Test, onset and exposure dates older than this are refused as mistyped (a year of 0026 or 2062).
    TTS_PLAUSIBLE_DAYS = int(os.environ.get("TTS_PLAUSIBLE_DAYS", "90"))
    # A new case for someone whose last case is still open, or was logged fewer days ago than this, is
    # most likely the same illness: it is shown and confirmed, never silently made twice.
    TTS_REINFECTION_DAYS = int(os.environ.get("TTS_REINFECTION_DAYS", "90"))
    TTS_TEAM_PHONE = os.environ.get("TTS_TEAM_PHONE", "0114 496 0000")
    # Settings and outbreaks (docs/outbreaks.md): this many cases linked to one setting with test dates no more
    # than TTS_CLUSTER_DAYS apart open an outbreak; one with no new case for TTS_OUTBREAK_QUIET_DAYS is
    # proposed for closure.
    TTS_CLUSTER_CASES = int(os.environ.get("TTS_CLUSTER_CASES", "2"))
    TTS_CLUSTER_DAYS = int(os.environ.get("TTS_CLUSTER_DAYS", "14"))
    TTS_OUTBREAK_QUIET_DAYS = int(os.environ.get("TTS_OUTBREAK_QUIET_DAYS", "28"))
    # Letters by email (docs/letters.md): a real SMTP server when TTS_SMTP_HOST is set. Without one, development
    # and tests write each email to TTS_SMTP_SIMULATED_DIR instead, and production refuses to email letters.
    TTS_SMTP_HOST = os.environ.get("TTS_SMTP_HOST", "")
    TTS_SMTP_PORT = int(os.environ.get("TTS_SMTP_PORT", "587"))
    TTS_SMTP_USERNAME = os.environ.get("TTS_SMTP_USERNAME", "")
    TTS_SMTP_PASSWORD = os.environ.get("TTS_SMTP_PASSWORD", "")
    TTS_SMTP_SECURITY = os.environ.get("TTS_SMTP_SECURITY", "starttls")  # starttls, ssl, or none (a local relay)
    TTS_SMTP_FROM = os.environ.get("TTS_SMTP_FROM", "test-and-trace@council.example")
    TTS_SMTP_TIMEOUT_SECONDS = float(os.environ.get("TTS_SMTP_TIMEOUT_SECONDS", "20"))
    TTS_SMTP_SIMULATED_DIR = os.environ.get("TTS_SMTP_SIMULATED_DIR", "")
    # A letter left "sending" this long (its worker stopped mid-send) is marked failed, never sent again by itself.
    TTS_SMTP_ORPHAN_MINUTES = int(os.environ.get("TTS_SMTP_ORPHAN_MINUTES", "10"))
    # Self-service (docs/self-service.md): a case's online form and a contact's confirmation, by a texted link.
    TTS_SELF_SERVICE = os.environ.get("TTS_SELF_SERVICE", "1") == "1"
    TTS_SELF_SERVICE_HOURS = int(os.environ.get("TTS_SELF_SERVICE_HOURS", "48"))  # a link works this long
    TTS_SELF_SERVICE_HOLD_HOURS = float(os.environ.get("TTS_SELF_SERVICE_HOLD_HOURS", "0"))  # first call waits
    TTS_SELF_SERVICE_MAX_TRIES = int(os.environ.get("TTS_SELF_SERVICE_MAX_TRIES", "5"))  # wrong birth dates
    TTS_SELF_SERVICE_MAX_FAILURES_ADDRESS = int(os.environ.get("TTS_SELF_SERVICE_MAX_FAILURES_ADDRESS", "20"))
    # Household contacts who confirmed by text still get a call (0: a confirmation is enough for them too).
    TTS_TEXT_CONFIRMED_HOUSEHOLD_CALL = os.environ.get("TTS_TEXT_CONFIRMED_HOUSEHOLD_CALL", "1") == "1"
    TTS_CHECKIN_DAYS = os.environ.get("TTS_CHECKIN_DAYS", "2,5,8")  # days after isolation starts
    TTS_SMS_MAX_ATTEMPTS = int(os.environ.get("TTS_SMS_MAX_ATTEMPTS", "5"))
    TTS_SMS_GIVE_UP_HOURS = int(os.environ.get("TTS_SMS_GIVE_UP_HOURS", "6"))  # and at least MAX_ATTEMPTS tries
    TTS_SMS_RETRY_BASE_SECONDS = int(os.environ.get("TTS_SMS_RETRY_BASE_SECONDS", "30"))
    TTS_RECONCILE_AFTER_MINUTES = int(os.environ.get("TTS_RECONCILE_AFTER_MINUTES", "30"))
    # A crashed worker's claimed texts go to another worker after this long (looked up in Twilio before any
    # send). Safe because a worker starts a claimed send only within TTS_OUTBOX_SEND_WINDOW_SECONDS of claiming
    # it, and every request to Twilio gives up after TTS_TWILIO_TIMEOUT_SECONDS: keep ORPHAN well above both.
    TTS_OUTBOX_ORPHAN_MINUTES = int(os.environ.get("TTS_OUTBOX_ORPHAN_MINUTES", "3"))
    TTS_OUTBOX_SEND_WINDOW_SECONDS = int(os.environ.get("TTS_OUTBOX_SEND_WINDOW_SECONDS", "60"))
    TTS_TWILIO_TIMEOUT_SECONDS = int(os.environ.get("TTS_TWILIO_TIMEOUT_SECONDS", "15"))
    TTS_RECONCILE_MAX_HOURS = int(os.environ.get("TTS_RECONCILE_MAX_HOURS", "72"))  # then "sent" is left as is
    TTS_SIMULATED_GATEWAY_LATENCY_MS = int(os.environ.get("TTS_SIMULATED_GATEWAY_LATENCY_MS", "0"))
    TTS_SIMULATED_GATEWAY_RECORD = os.environ.get("TTS_SIMULATED_GATEWAY_RECORD") or None  # drills: a file of sends
    TTS_WORKER_INTERVAL_SECONDS = float(os.environ.get("TTS_WORKER_INTERVAL_SECONDS", "5"))
    # Without Twilio settings the simulated gateway records texts and calls. It is the default in development
    # and tests; a production server refuses to start without real Twilio settings unless this is "1", and its
    # simulated events are then signed with a key derived from SECRET_KEY, never the development key.
    TTS_SIMULATED_TWILIO = os.environ.get("TTS_SIMULATED_TWILIO") == "1"
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN")
    TWILIO_API_KEY = os.environ.get("TWILIO_API_KEY")
    TWILIO_API_SECRET = os.environ.get("TWILIO_API_SECRET")
    TWILIO_CALLER_ID = os.environ.get("TWILIO_CALLER_ID")
    TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID")
    TWILIO_SMS_FROM = os.environ.get("TWILIO_SMS_FROM")


class DevelopmentConfig(Config):
    """The embedded default: SQLite file, simulated Twilio, plain-HTTP cookies on localhost."""

    TTS_ENVIRONMENT = "development"

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    TTS_SIMULATED_TWILIO = True
    TTS_DEVELOPMENT_TWILIO_KEY = True  # simulated webhooks signed with the key in the source: this machine only
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    TTS_SMTP_SIMULATED_DIR = os.environ.get("TTS_SMTP_SIMULATED_DIR", "instance/mail")


class TestingConfig(Config):
    TTS_ENVIRONMENT = "testing"
    TESTING = True
    TTS_AUDIT_SEAL_AT_COMMIT = True  # every test sees its events sealed at once; tests/audit prove the sealer
    SECRET_KEY = "test-secret"
    TTS_SIMULATED_TWILIO = True
    TTS_DEVELOPMENT_TWILIO_KEY = True
    WTF_CSRF_ENABLED = False  # one test turns it back on to prove forms are protected
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashes keep the suite quick
    TTS_DASHBOARD_CACHE_SECONDS = 0  # tests see every change at once
    TTS_SMTP_SIMULATED_DIR = os.path.join(tempfile.gettempdir(), "tts-test-mail")
    TTS_KPI_CACHE_SECONDS = 0


class ProductionConfig(Config):
    TTS_LOG_FORMAT = os.environ.get("TTS_LOG_FORMAT", "json")
    SESSION_COOKIE_NAME = "__Host-session"  # Secure, Path=/ and no Domain: the browser enforces all three
    TTS_HSTS = True
    # On PostgreSQL: no statement runs longer than 30 s and no transaction sits idle over a minute, so a
    # stuck report or a crashed request cannot hold locks the call queue needs (docs/benchmarks.md).
    SQLALCHEMY_ENGINE_OPTIONS = {
        **Config.SQLALCHEMY_ENGINE_OPTIONS,
        **({"connect_args": {"options": "-c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000"}}
           if database_url().startswith("postgresql") else {}),
    }


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
