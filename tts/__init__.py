"""TTS application factory."""
import os

from flask import Flask


def create_app(config: type | str | None = None, **overrides) -> Flask:
    """Build the app. `config` is a config class or name; TTS_CONFIG picks one (default development)."""
    from tts.transaction import App

    app = App(__name__, template_folder="../templates", instance_relative_config=False)
    app.extensions["tts.create_app"] = create_app  # for the capacity planner's scratch apps
    register_config(app, config, overrides)
    register_operations(app)
    register_url_converters(app)
    register_extensions(app)
    register_blueprints(app)
    register_reactions()
    prepare_shared_statements()
    register_template_helpers(app)
    register_error_handlers(app)
    register_input_guard(app)
    register_commands(app)
    register_security_headers(app)
    from tts import access_policy

    access_policy.init_app(app)
    return app


def prepare_shared_statements() -> None:
    """Configure the ORM's mappers and build the statements threads share, here in one thread before a
    server starts its threads (tts/callqueue/statements.py says what goes wrong otherwise)."""
    from sqlalchemy.orm import configure_mappers

    from tts.callqueue.statements import prepare_statements

    configure_mappers()
    prepare_statements()


# Modules that register handlers on hooks (tts/hooks.py), such as telephony's texts on the queue's events,
# or declare background jobs (tts/jobs.py). Imported whenever an app is made, so a handler or a job is
# never missing because nothing happened to import its module.
REACTIONS = ("tts.audit.sealer", "tts.telephony.services", "tts.selfservice.checkins", "tts.cases.lifecycle", "tts.callqueue.services", "tts.imports.services", "tts.people.retention",
             "tts.simulation.services", "tts.reports.kpis", "tts.reports.export_jobs", "tts.api.idempotency",
             "tts.outbreaks.services", "tts.outbreaks.reactions", "tts.letters.services")


def register_reactions() -> None:
    import importlib

    for module in REACTIONS:
        importlib.import_module(module)


def register_config(app: Flask, config, overrides: dict) -> None:
    from config import CONFIGS

    if config is None:
        config = os.environ.get("TTS_CONFIG", "development")
    if isinstance(config, str):
        config = CONFIGS[config]
    app.config.from_object(config)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in the environment")
    import ipaddress

    app.config["TTS_METRICS_NETWORKS"] = [ipaddress.ip_network(part.strip(), strict=False)
                                          for part in app.config["TTS_METRICS_ALLOW"].split(",") if part.strip()]
    if app.config["TTS_PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TTS_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    if app.config.get("TTS_REPORTING_DATABASE_URL"):  # exports read from this (a replica), see tts/reports
        from config import driver_url

        app.config["SQLALCHEMY_BINDS"] = {**(app.config.get("SQLALCHEMY_BINDS") or {}),
                                          "reporting": driver_url(app.config["TTS_REPORTING_DATABASE_URL"])}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


def register_operations(app: Flask) -> None:
    """Request ids and JSON logs first, so every later hook's log lines carry the id (tts/ops)."""
    from tts.ops import logs

    logs.init_app(app)


def register_url_converters(app: Flask) -> None:
    from werkzeug.routing import BaseConverter

    class IdConverter(BaseConverter):
        """A record id in a path. Any run of digits matches, so the route is found; one no integer column can
        hold (0, or past 2**31 - 1) becomes 0, which no record has: the view's lookup answers 404, never a
        database error, and never a 405 from some other route."""

        regex = r"\d+"
        weight = 50

        def to_python(self, value: str) -> int:
            number = int(value) if len(value) <= 10 else 0
            return number if 1 <= number <= 2**31 - 1 else 0

        def to_url(self, value) -> str:
            return str(int(value))

    app.url_map.converters["id"] = IdConverter


def register_extensions(app: Flask) -> None:
    import tts.models  # noqa: F401  (the whole schema, for relationships and migrations)
    from tts.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        from tts.db_pool import ping_when_idle

        for engine in db.engines.values():
            if engine.dialect.name != "sqlite":  # a file on this machine: nothing to drop the connection
                ping_when_idle(engine, app.config["TTS_DB_PING_AFTER_IDLE_SECONDS"])
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)

    from tts.auth import sessions, throttle
    from tts.auth.cookies import SignedCookieSessionInterface

    app.session_interface = SignedCookieSessionInterface()
    from tts.telephony import client

    client.init_app(app)
    throttle.init_app(app)
    sessions.init_app(app)


def register_blueprints(app: Flask) -> None:
    import importlib

    # Routes are attached when a feature's views module is imported; importing them here rather
    # than from each package's __init__ keeps models and services importable without the web layer.
    for module in ("auth.views", "cases.views", "people.views", "policies.views", "audit.views",
                   "callqueue.views", "escalation.views", "telephony.views", "telephony.webhooks",
                   "supervision.views", "support.views", "reports.views", "reports.exports", "imports.views",
                   "api.auth", "api.views", "api.queue", "api.supervision", "api.openapi", "about.views",
                   "simulation.views", "selfservice.views", "ops.views", "outbreaks.views", "api.outbreaks", "api.letters", "letters.views"):
        importlib.import_module(f"tts.{module}")

    from tts.api import bp as api_bp
    from tts.audit import bp as audit_bp
    from tts.auth import bp as auth_bp
    from tts.callqueue import bp as callqueue_bp
    from tts.cases import bp as cases_bp
    from tts.escalation import bp as escalation_bp
    from tts.people import bp as people_bp
    from tts.imports import bp as imports_bp
    from tts.reports import bp as reports_bp
    from tts.supervision import bp as supervision_bp
    from tts.support import bp as support_bp
    from tts.telephony import bp as telephony_bp
    from tts.telephony import webhooks_bp
    from tts.policies import bp as policies_bp
    from tts.about import bp as about_bp
    from tts.simulation import bp as simulation_bp
    from tts.selfservice import bp as selfservice_bp
    from tts.ops import bp as ops_bp
    from tts.outbreaks import bp as outbreaks_bp
    from tts.letters import bp as letters_bp

    from tts.api.openapi import register_docs

    register_docs(app)
    for bp in (auth_bp, cases_bp, people_bp, callqueue_bp, supervision_bp, escalation_bp, support_bp, telephony_bp,
               webhooks_bp, reports_bp, imports_bp, policies_bp, audit_bp, api_bp, about_bp, simulation_bp, selfservice_bp, ops_bp,
               outbreaks_bp, letters_bp):
        app.register_blueprint(bp)


def register_template_helpers(app: Flask) -> None:
    from tts import ui

    ui.init_app(app)
    register_static_versions(app)


def register_static_versions(app: Flask) -> None:
    """Every link to a static file carries ?v=<hash of its content>: nginx caches them for a year (deploy/), and
    an upgrade that changes a file changes its links, so nobody keeps yesterday's script."""
    import hashlib
    from functools import cache
    from pathlib import Path

    folder = Path(app.static_folder or "")

    @cache
    def version(filename: str) -> str | None:
        path = folder / filename
        if not path.is_file():
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]

    @app.url_defaults
    def _versioned(endpoint, values):
        if endpoint == "static" and "v" not in values and values.get("filename"):
            found = version(values["filename"])
            if found:
                values["v"] = found


def register_error_handlers(app: Flask) -> None:
    from tts import errors

    errors.init_app(app)


def register_input_guard(app: Flask) -> None:
    from tts import input_guard

    input_guard.init_app(app)


def register_commands(app: Flask) -> None:
    from tts.audit.cli import audit_cli
    from tts.people.retention import retention_cli
    from tts.auth.cli import users_cli
    from tts.callqueue.cli import queue_cli
    from tts.demo import demo_cli
    from tts.worker import serve_command, worker_command

    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(queue_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(serve_command)
    from tts.simulation.cli import simulate_command

    app.cli.add_command(simulate_command)
    from tts.ops.backup import backup_cli

    app.cli.add_command(backup_cli)


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("TTS_HSTS"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype in ("text/html", "application/json"):
            # Pages and API answers show personal data: never keep them in shared or back-button caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
