"""Alerts for supervisors: raised by what people do through texts and links (a locked link, a check-in
asking for help, symptoms), shown on the dashboard until a supervisor marks each dealt with."""
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from tts.audit.services import record_event
from tts.clock import utcnow
from tts.errors import DomainError
from tts.extensions import db
from tts.selfservice.models import TeamAlert


def raise_alert(kind: str, person, detail: str | None = None) -> TeamAlert:
    alert = TeamAlert(kind=kind, person_id=getattr(person, "id", None), detail=detail, created_at=utcnow())
    db.session.add(alert)
    db.session.flush()
    record_event(None, "alert.raise", alert, {"person_id": alert.person_id, "kind": kind})
    return alert


def open_alerts(limit: int = 50) -> list[TeamAlert]:
    return list(db.session.scalars(select(TeamAlert).options(joinedload(TeamAlert.person))
                                   .where(TeamAlert.resolved_at.is_(None))
                                   .order_by(TeamAlert.created_at.desc(), TeamAlert.id.desc()).limit(limit)))


def count_open() -> int:
    return db.session.scalar(select(func.count()).select_from(TeamAlert).where(TeamAlert.resolved_at.is_(None))) or 0


def resolve_alert(actor, alert: TeamAlert, now: datetime | None = None) -> TeamAlert:
    if alert.resolved_at is not None:
        raise DomainError("This alert was already dealt with")
    alert.resolved_at = now or utcnow()
    alert.resolved_by_id = actor.id
    db.session.flush()
    record_event(actor, "alert.resolve", alert, {"person_id": alert.person_id, "kind": alert.kind})
    return alert
