"""Server-side sign-in sessions.

The browser's (signed) cookie carries only a random session key; the `user_sessions` row behind it says
whether the session is still alive. So sign-out, an idle or absolute time-out, a password change, a
second-factor reset or deactivation ends the session on the server, and a copied cookie stops working.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import Flask, current_app, session
from sqlalchemy import select, update

from tts.auth.models import User, UserSession
from tts.clock import utcnow
from tts.extensions import db

SESSION_KEY = "tts_sid"
# Writing last_seen_at on every request would turn every page view into a write; a minute's slack is
# invisible next to a 30-minute idle limit.
TOUCH_EVERY = timedelta(seconds=60)
# Requests a page makes by itself (polling, keep-alives) must not count as the user being active.
PASSIVE_ENDPOINTS = {"auth.session_status", "callqueue.heartbeat", "imports.progress", "supervision.panel"}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["TTS_SESSION_IDLE_MINUTES"])


def absolute_limit() -> timedelta:
    return timedelta(hours=current_app.config["TTS_SESSION_MAX_HOURS"])


def start_session(user: User) -> UserSession:
    """Record a new session and put its key in the browser's cookie (the cookie is cleared of all else)."""
    key = secrets.token_urlsafe(32)
    row = UserSession(token_hash=_hash(key), user_id=user.id)
    db.session.add(row)
    db.session.flush()
    session.clear()  # a fresh session on sign-in: nothing carried over from before (session fixation)
    session[SESSION_KEY] = key
    session.permanent = True
    return row


def current_session_row() -> UserSession | None:
    key = session.get(SESSION_KEY)
    if not key:
        return None
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(key)))


def check_session(user: User, touch: bool = True) -> str | None:
    """None while the browser's session is alive (and keeps it alive); else why it ended."""
    row = current_session_row()
    if row is None or row.user_id != user.id:
        return "unknown"
    if row.ended_at is not None:
        return row.ended_reason or "ended"
    now = utcnow()
    if now - row.created_at >= absolute_limit():
        _end(row, "expired")
        return "expired"
    if now - row.last_seen_at >= idle_limit():
        _end(row, "idle")
        return "idle"
    if touch and now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now  # committed with the request, read-only pages included (tts/transaction.py)
    return None


def seconds_left() -> int | None:
    """Seconds until the current session times out from idleness (or reaches its absolute limit)."""
    row = current_session_row()
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    left = min(row.last_seen_at + idle_limit(), row.created_at + absolute_limit()) - now
    return max(0, int(left.total_seconds()))


def extend() -> int | None:
    row = current_session_row()
    if row is not None and row.ended_at is None:
        row.last_seen_at = utcnow()
    return seconds_left()


def _end(row: UserSession, reason: str) -> None:
    row.ended_at = utcnow()
    row.ended_reason = reason


def end_current_session(reason: str = "signed_out") -> None:
    row = current_session_row()
    if row is not None and row.ended_at is None:
        _end(row, reason)
    session.pop(SESSION_KEY, None)


def end_sessions(user: User, reason: str, *, except_current: bool = False) -> int:
    """End every live session of `user` (optionally keeping this browser's); returns how many ended."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if except_current:
        current = current_session_row()
        if current is not None:
            stmt = stmt.where(UserSession.id != current.id)
    result = db.session.execute(stmt.values(ended_at=utcnow(), ended_reason=reason)
                                .execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def live_sessions(user: User) -> list[UserSession]:
    cutoff = utcnow() - idle_limit()
    return list(db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None), UserSession.last_seen_at > cutoff)
        .order_by(UserSession.created_at.desc())))


def init_app(app: Flask) -> None:
    pass  # the "last seen" touch is committed with the rest of the request (tts/transaction.py)
