"""Personal links (`/s/<token>`): issuing one for a text, finding one from its token, and what a case's
link says about its online form (the API's `self_service`).

A token is 192 random bits (`secrets.token_urlsafe(24)`); only its SHA-256 is stored, so the database
alone never opens a link. One link is live per case or contact: issuing another revokes the earlier one.
"""
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from tts.audit.services import record_event
from tts.clock import utcnow
from tts.extensions import db
from tts.selfservice.models import LIVE_LINK_STATUSES, LinkPurpose, LinkStatus, SelfServiceLink


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(token: str) -> str:
    return current_app.config["TTS_PUBLIC_URL"].rstrip("/") + f"/s/{token}"


def enabled() -> bool:
    return bool(current_app.config.get("TTS_SELF_SERVICE", True))


def issue_link(actor, person, *, case=None, contact=None, now: datetime | None = None) -> tuple[SelfServiceLink, str]:
    """A new personal link for this case or contact: (the link, its token). The token is returned once,
    to go in the text, and never stored."""
    now = now or utcnow()
    record = case if case is not None else contact
    column = SelfServiceLink.case_id if case is not None else SelfServiceLink.contact_id
    db.session.execute(update(SelfServiceLink).where(column == record.id, SelfServiceLink.status.in_(LIVE_LINK_STATUSES))
                       .values(status=LinkStatus.REVOKED, revoked_at=now)
                       .execution_options(synchronize_session="fetch"))
    token = secrets.token_urlsafe(24)
    link = SelfServiceLink(token_hash=hash_token(token), purpose=LinkPurpose.CASE if case is not None else LinkPurpose.CONTACT,
                           person_id=person.id, case_id=getattr(case, "id", None), contact_id=getattr(contact, "id", None),
                           status=LinkStatus.NOT_STARTED, failed_attempts=0, created_at=now,
                           expires_at=now + timedelta(hours=current_app.config["TTS_SELF_SERVICE_HOURS"]))
    db.session.add(link)
    db.session.flush()
    record_event(actor, "self_service.link_issue", link, {"person_id": person.id, "purpose": link.purpose})
    return link, token


def find_link(token: str) -> SelfServiceLink | None:
    """The link a token opens, whatever its state (the caller decides what an expired one shows), or None.
    The lookup is by the token's hash through a unique index: its time does not depend on how much of a
    guess matches."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(SelfServiceLink).where(SelfServiceLink.token_hash == hash_token(token)))


def latest_link(*, case=None, contact=None) -> SelfServiceLink | None:
    if case is not None:
        stmt = select(SelfServiceLink).where(SelfServiceLink.case_id == case.id)
    else:
        stmt = select(SelfServiceLink).where(SelfServiceLink.contact_id == contact.id)
    return db.session.scalar(stmt.order_by(SelfServiceLink.id.desc()).limit(1))


def completed_link(case) -> SelfServiceLink | None:
    """The case's completed online form, if they completed one (of any of their links)."""
    return db.session.scalar(select(SelfServiceLink).where(
        SelfServiceLink.case_id == case.id, SelfServiceLink.status == LinkStatus.COMPLETED)
        .order_by(SelfServiceLink.id.desc()).limit(1))


def self_service_summary(case, now: datetime | None = None) -> dict:
    """The API's `self_service` of a case: the latest link's status (a completed form counts even if a
    later link was sent), and when it was completed."""
    return self_service_summaries([case.id], now)[case.id]


def self_service_summaries(case_ids: list[int], now: datetime | None = None) -> dict[int, dict]:
    """`self_service_summary` for several cases in one query (a page of the Cases list)."""
    now = now or utcnow()
    found: dict[int, list[SelfServiceLink]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        for link in db.session.scalars(select(SelfServiceLink).where(SelfServiceLink.case_id.in_(case_ids))
                                       .order_by(SelfServiceLink.id.desc())):
            found[link.case_id].append(link)
    return {case_id: _summary(links, now) for case_id, links in found.items()}


def _summary(links: list[SelfServiceLink], now: datetime) -> dict:
    done = next((link for link in links if link.status == LinkStatus.COMPLETED), None)
    if done is not None:
        return {"status": LinkStatus.COMPLETED.value, "completed_at": done.completed_at}
    if not links:
        return {"status": LinkStatus.NOT_STARTED.value, "completed_at": None}
    status = links[0].public_status(now)
    if status == LinkStatus.REVOKED:
        status = LinkStatus.EXPIRED.value  # the contract's states: a revoked link can no longer be used
    return {"status": status, "completed_at": None}


def revoke(actor, link: SelfServiceLink, now: datetime | None = None) -> SelfServiceLink:
    """Staff stop a link working (a text sent to the wrong number, a person who asks for it)."""
    if link.status in LIVE_LINK_STATUSES or link.status == LinkStatus.LOCKED:
        link.status = LinkStatus.REVOKED
        link.revoked_at = now or utcnow()
        link.revoked_by_id = getattr(actor, "id", None)
        db.session.flush()
        record_event(actor, "self_service.link_revoke", link, {"person_id": link.person_id})
    return link
