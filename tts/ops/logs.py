"""One JSON line per request and per job, and a request id on every request.

The id is the proxy's `X-Request-ID` when it sends a usable one (so nginx's log and the app's share it),
else a new one; it goes back in the response's `X-Request-ID` header, onto every log line written while the
request runs, and onto the error pages, so that a member of staff can quote it.

Nothing personal is logged: a request's line has its route's name (never the path, which can carry a
search or a token), its status, its duration and the signed-in user's id.
"""
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

log = logging.getLogger("tts.requests")

_USABLE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
QUIET_ENDPOINTS = {"ops.healthz", "ops.readyz", "ops.metrics", "static"}  # logged at debug level only


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record logged while it runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object on one line: time, level, logger, message, request id, and the
    structured fields a record carries in `extra={"fields": {...}}`. Exceptions keep their traceback (the
    app's own messages and tracebacks name records by id, never by what they hold)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if getattr(record, "request_id", None):
            line["request_id"] = record.request_id
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(app: Flask) -> None:
    """TTS_LOG_FORMAT=json (production's default) or text; TTS_LOG_LEVEL (info). Configures the root logger
    once a process, so gunicorn's workers, the worker and the CLI all write the same lines to stderr
    (journald or the container's log collects them)."""
    root = logging.getLogger()
    if getattr(root, "_tts_configured", False) or app.testing:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if app.config["TTS_LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.handlers = [handler]
    root.setLevel(app.config["TTS_LOG_LEVEL"].upper())
    root._tts_configured = True  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    configure_logging(app)

    @app.before_request
    def _start():
        g.request_started = time.perf_counter()
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _USABLE_ID.fullmatch(offered) else uuid.uuid4().hex

    @app.after_request
    def _finish(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.pop("request_started", None)
        if started is None:
            return response
        duration = time.perf_counter() - started
        endpoint = request.endpoint or "unmatched"
        from tts.ops import metrics

        metrics.observe_request(endpoint, request.method, response.status_code, duration)
        user = g.get("_login_user")  # Flask-Login's, when the request loaded one: never loaded just to log
        fields = {"event": "request", "method": request.method, "route": endpoint,
                  "status": response.status_code, "duration_ms": round(duration * 1000, 1),
                  "user_id": getattr(user, "id", None)}
        level = logging.DEBUG if endpoint in QUIET_ENDPOINTS else logging.INFO
        log.log(level, "%s %s %s %.1f ms", request.method, endpoint, response.status_code, duration * 1000,
                extra={"fields": fields, "request_id": rid})
        return response
