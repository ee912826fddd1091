"""Staff users and their API tokens."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import UTCDateTime


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; Twilio rings it for masked calls
    languages: Mapped[str | None] = mapped_column(String(200))  # comma-separated, besides English
    is_field_officer: Mapped[bool] = mapped_column(default=False)  # makes doorstep visits
    can_export_identifiable: Mapped[bool] = mapped_column(default=False)  # granted per user by an admin
    is_on_shift: Mapped[bool] = mapped_column(default=False)
    shift_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Two-factor sign-in (TOTP, RFC 6238). The secret must be readable to check codes; recovery codes are hashed.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None]  # the last time step used: a code works once
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user", cascade="all, delete-orphan")
    recovery_codes: Mapped[list["RecoveryCode"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def mfa_enrolled(self) -> bool:
        return bool(self.totp_secret and self.totp_enrolled_at)

    @property
    def language_list(self) -> list[str]:
        return [lang.strip() for lang in (self.languages or "").split(",") if lang.strip()]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")


class RecoveryCode(db.Model):
    """A one-time code for signing in without the authenticator app; only its hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class UserSession(db.Model):
    """A signed-in browser session, held server-side so sign-out, idle time-out and a password change end it."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()


class SigninFailure(db.Model):
    """One failed sign-in (or failed re-confirmation), for throttling shared by every web process and server.
    The account or address is stored only as a hash: the table says how often, never who."""

    __tablename__ = "signin_failures"
    __table_args__ = (Index("ix_signin_failures_scope_key_at", "scope", "key_hash", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # account | address
    key_hash: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
