"""Writing and querying audit events."""
from datetime import date, timedelta

from flask import has_request_context, request
from sqlalchemy import Select, select

from tts.audit import chain
from tts.audit.models import AuditEvent
from tts.clock import london_midnight
from tts.extensions import db


def _origin() -> tuple[str, str | None]:
    if not has_request_context():
        return "cli", None
    if request.path.startswith("/s/"):
        return "self", request.remote_addr  # a person through their personal link: the actor "self-service"
    return ("api" if request.path.startswith("/api/") else "web"), request.remote_addr


def event_origin(actor) -> dict:
    """Who records events here and through which door: read once, in the request's context."""
    via, ip = _origin()
    token_id = None
    if via == "api":
        from flask import g

        token = getattr(g, "api_token", None)
        token_id = token.id if token is not None else None
    return {"actor_id": getattr(actor, "id", None), "via": via, "ip": ip, "token_id": token_id}


def event_row(origin: dict, action: str, record_type: str | None, record_id: int | None,
              details: dict | None = None) -> dict:
    """An audit event's columns, for the ORM here and for the set-based import's bulk insert
    (tts/imports/bulk.py), so both write the same event."""
    if origin["token_id"] is not None:
        details = {**(details or {}), "token_id": origin["token_id"]}
    return {"actor_id": origin["actor_id"], "action": action, "record_type": record_type, "record_id": record_id,
            "via": origin["via"], "ip": origin["ip"], "details": details or None}


def record_event(actor, action: str, record=None, details: dict | None = None) -> AuditEvent:
    """Append one audit event in the caller's transaction (so it lands only if the change does)."""
    # current_user is a proxy: record the user it stands for (else the record type reads "localproxy").
    record = record._get_current_object() if hasattr(record, "_get_current_object") else record
    event = AuditEvent(**event_row(event_origin(actor), action,
                                   type(record).__name__.lower() if record is not None else None,
                                   getattr(record, "id", None), details))
    db.session.add(event)
    chain.track(db.session())
    return event


def audit_query(*, actor_id: int | None = None, action: str | None = None, record_type: str | None = None,
                record_id: int | None = None, date_from: date | None = None, date_to: date | None = None) -> Select:
    stmt = select(AuditEvent)
    if actor_id:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action))
    if record_type:
        stmt = stmt.where(AuditEvent.record_type == record_type)
    if record_id:
        stmt = stmt.where(AuditEvent.record_id == record_id)
    if date_from:
        stmt = stmt.where(AuditEvent.at >= london_midnight(date_from))
    if date_to:
        stmt = stmt.where(AuditEvent.at < london_midnight(date_to + timedelta(days=1)))
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def record_list_view(actor, page: str, person_ids) -> AuditEvent | None:
    """A page listing people by name (a queue, an escalation list, search results): one event per view,
    naming the page and the ids of the people shown (ids only: the audit log holds no names)."""
    ids = sorted({i for i in person_ids if i is not None})
    if not ids:
        return None
    return record_event(actor, "people.list_view", None, {"page": page, "person_ids": ids})


def audited_list_page(html: str, actor, page: str, person_ids) -> str:
    """Render first, then audit; the request commits after (a commit before rendering would expire the
    listed rows, and the template would load each again: a query a row)."""
    record_list_view(actor, page, person_ids)
    return html
