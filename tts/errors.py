"""Domain errors raised by services, and the app's HTTP error pages."""
import logging

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A broken business rule. Raised out of a view, the request's writes are rolled back (tts/transaction.py)
    and the API answers `http_status` with the message; a web view that shows it itself calls `undo()`."""

    http_status = 409  # the request conflicts with the record as it stands
    extra: dict = {}  # more for the API's answer (the existing record's id, say)


class ValidationFailed(DomainError):
    """Field errors keyed by dotted field name (`person.phone`), each a list of messages."""

    http_status = 422

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class ErrorCollector:
    """Gathers field errors so a service reports every problem at once, then raises."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self.errors

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    def page(code: int, title: str):
        def handler(error):
            if _wants_json():
                return jsonify({"error": title, "request_id": g.get("request_id")}), code
            return render_template("errors/error.html", code=code, title=title), code

        return handler

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf_refused(error):
        if _wants_json():
            return jsonify({"error": "Bad request", "request_id": g.get("request_id")}), 400
        explanation = None
        if not request.is_secure and app.config.get("SESSION_COOKIE_SECURE"):
            # The commonest cause on a new server: plain HTTP, where the browser refuses to keep the sign-in
            # cookie (it is marked Secure), so the form's token cannot be checked against it.
            log.warning("form refused: the request came over plain HTTP, where browsers do not keep TTS's cookies "
                        "(they are Secure). Serve TTS over HTTPS, and behind a proxy set TTS_PROXY_COUNT so its "
                        "X-Forwarded-Proto is trusted (docs/deploy.md)")
            explanation = ("This service only works over a secure connection (an address starting https://). "
                           "This page came over plain HTTP, so your browser did not keep the sign-in cookie. "
                           "Use the https:// address, or tell your IT team: the server must be reached over HTTPS, "
                           "and behind a proxy TTS_PROXY_COUNT must be set.")
        else:
            log.info("form refused: its security token was missing or did not match (%s)", error.description)
        return render_template("errors/error.html", code=400, title="Bad request",
                               explanation=explanation or "The form had expired or was sent twice. Go back, "
                               "reload the page and try again."), 400

    app.register_error_handler(400, page(400, "Bad request"))
    app.register_error_handler(403, page(403, "You do not have permission to see this page"))
    app.register_error_handler(404, page(404, "Page not found"))
    app.register_error_handler(405, page(405, "Method not allowed"))
    app.register_error_handler(413, page(413, "The request is too large"))
    app.register_error_handler(429, page(429, "Too many requests: wait a minute and try again"))
    app.register_error_handler(500, page(500, "Sorry, there is a problem with the service"))
    app.register_error_handler(DBAPIError, _database_unavailable)
    app.register_error_handler(DomainError, _refused)
    app.wsgi_app = RetrySafeReads(app.wsgi_app)  # type: ignore[method-assign]

    @app.teardown_appcontext
    def _close_session_safely(_exc):
        # Runs before Flask-SQLAlchemy's own teardown. If the connection died after the response was
        # made, the closing ROLLBACK fails: the response already stands, so discard the dead session quietly.
        from tts.extensions import db

        try:
            db.session.remove()
        except DBAPIError as error:
            if not is_outage(error):
                raise
            db.session.registry.clear()
            log.warning("database connection lost while closing a request: discarded")


def _refused(exc: DomainError):
    """The one answer to a refused action that no view showed itself (its writes are already rolled back):
    the API's field errors (422) or message; on the web, the error page with the message."""
    if _wants_json():
        body = {"errors": exc.errors} if isinstance(exc, ValidationFailed) else {"error": str(exc)}
        return jsonify({**body, **exc.extra}), exc.http_status
    return render_template("errors/error.html", code=exc.http_status, title=str(exc)), exc.http_status


def is_outage(exc: BaseException) -> bool:
    """The database is unreachable, restarting, or dropped our connection (not a bad statement)."""
    return isinstance(exc, (OperationalError, InterfaceError)) or bool(getattr(exc, "connection_invalidated", False))


def _database_unavailable(exc: DBAPIError):
    if not is_outage(exc):
        raise exc  # a real bug (an integrity error, say): the 500 handler reports it
    from flask import g

    from tts.extensions import db

    g.db_unavailable = True
    g._login_user = current_app.login_manager.anonymous_user()  # rendering must not look the user up again
    request.environ["tts.db_unavailable"] = True
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the connection is gone; the session is discarded anyway)
        pass
    db.session.remove()
    log.warning("database unavailable: %s on %s %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__,
                request.method, request.endpoint)  # no statement, no parameters: they may hold personal data
    if _wants_json():
        response = jsonify({"error": "The service is briefly unavailable: try again in a minute"})
    else:
        response = make_response(render_template("errors/unavailable.html"))
    response.status_code = 503
    response.headers["Retry-After"] = "30"
    return response


class RetrySafeReads:
    """WSGI middleware: a GET or HEAD that failed because the database connection dropped is run once more,
    on a fresh connection, before the user sees anything. Writes are never retried (they may have
    committed): the user sees the friendly 503 page and can try again."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        first = dict(environ)
        captured: list = []

        def hold(status, headers, exc_info=None):
            captured[:] = [status, headers, exc_info]
            return lambda data: None

        result = self.wsgi_app(first, hold)
        if not first.get("tts.db_unavailable"):
            start_response(*captured)
            return result
        if hasattr(result, "close"):
            result.close()
        retry = dict(environ)
        retry["tts.db_retried"] = True
        return self.wsgi_app(retry, start_response)
