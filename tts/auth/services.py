"""User accounts, passwords and API tokens."""
import hashlib
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from tts.audit.services import record_event
from tts.auth.models import ApiToken, User
from tts.auth.passwords import password_problems
from tts.auth.sessions import end_sessions
from tts.clock import utcnow
from tts.errors import DomainError, ErrorCollector, ValidationFailed
from tts.extensions import db
from tts.permissions import Role

# Hashing a made-up password when the account is unknown keeps sign-in timing uniform.
_DUMMY_HASH_CACHE: dict[str, str] = {}


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _clean_user_fields(errors: ErrorCollector, *, email: str | None, name: str | None, role: str | None,
                       password: str | None, password_required: bool) -> dict:
    clean: dict = {}
    if email is not None:
        try:
            clean["email"] = validate_email(email.strip(), check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors.add("email", "Enter an email address in the correct format, like name@example.org")
    if name is not None:
        if not name.strip():
            errors.add("name", "Enter the person's name")
        clean["name"] = name.strip()
    if role is not None:
        if role not in {r.value for r in Role}:
            errors.add("role", f"Choose a role: {', '.join(r.value for r in Role)}")
        clean["role"] = role
    if password or password_required:
        password = password or ""
        for problem in password_problems(password, name=name, email=email):
            errors.add("password", problem)
        clean["password"] = password
    return clean


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(actor: User | None, *, email: str, name: str, role: str, password: str) -> User:
    errors = ErrorCollector()
    clean = _clean_user_fields(errors, email=email, name=name, role=role, password=password, password_required=True)
    if "email" in clean and get_user_by_email(clean["email"]):
        errors.add("email", "A user with this email address already exists")
    errors.raise_if_any()
    user = User(email=clean["email"], name=clean["name"], role=clean["role"],
                password_hash=hash_password(clean["password"]), is_active=True)
    db.session.add(user)
    db.session.flush()
    record_event(actor, "user.create", user, {"role": user.role})
    return user


def update_user(actor: User, user: User, *, name: str, role: str, is_active: bool, password: str | None = None,
                is_field_officer: bool | None = None, can_export_identifiable: bool | None = None) -> User:
    errors = ErrorCollector()
    clean = _clean_user_fields(errors, email=None, name=name, role=role, password=password, password_required=False)
    if password:
        for problem in password_problems(password, name=name, email=user.email):
            if problem not in errors.errors.get("password", []):
                errors.add("password", problem)
    if actor.id == user.id and (role != user.role or not is_active):
        errors.add("role", "You cannot change your own role or deactivate yourself")
    errors.raise_if_any()
    changes = {}
    if user.name != clean["name"]:
        changes["name"] = True
        user.name = clean["name"]
    if user.role != clean["role"]:
        changes["role"] = [user.role, clean["role"]]
        user.role = clean["role"]
    if user.is_active != is_active:
        changes["is_active"] = is_active
        user.is_active = is_active
        if not is_active:
            for token in user.tokens:
                token.revoked_at = token.revoked_at or utcnow()
            end_sessions(user, "deactivated")
    if is_field_officer is not None and user.is_field_officer != is_field_officer:
        changes["is_field_officer"] = is_field_officer
        user.is_field_officer = is_field_officer
    if can_export_identifiable is not None and user.can_export_identifiable != can_export_identifiable:
        changes["can_export_identifiable"] = can_export_identifiable
        user.can_export_identifiable = can_export_identifiable
    if clean.get("password"):
        user.password_hash = hash_password(clean["password"])
        user.password_changed_at = utcnow()
        changes["password"] = True
        end_sessions(user, "password_reset")  # an admin's reset signs the user out everywhere
    db.session.flush()
    if changes:
        record_event(actor, "user.update", user, changes)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Audits success and failure."""
    user = get_user_by_email(email or "")
    if user is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        dummy = _DUMMY_HASH_CACHE.setdefault(method, generate_password_hash("not-a-password", method=method))
        check_password_hash(dummy, password or "")
        record_event(None, "auth.login_failed", None, {"reason": "unknown account"})
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.is_active:
        record_event(None, "auth.login_failed", user, {"reason": "inactive" if user.is_active is False else "bad password"})
        return None
    record_event(user, "auth.password_ok", user)  # the sign-in completes after the second factor
    return user


def change_password(user: User, *, current: str, new: str) -> int:
    """A user changes their own password; every other session of theirs ends. Returns how many ended."""
    errors = ErrorCollector()
    if not check_password_hash(user.password_hash, current or ""):
        errors.add("current_password", "Your current password is not right")
    for problem in password_problems(new or "", name=user.name, email=user.email):
        errors.add("new_password", problem)
    if not errors.errors and check_password_hash(user.password_hash, new):
        errors.add("new_password", "Choose a password different from your current one")
    errors.raise_if_any()
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    ended = end_sessions(user, "password_changed", except_current=True)
    record_event(user, "auth.password_change", user, {"other_sessions_ended": ended})
    return ended


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MAX_TOKEN_DAYS = 366  # a token outlives nobody's review: re-issue at least yearly
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def issue_api_token(actor: User | None, user: User, days: int | None = None) -> tuple[ApiToken, str]:
    """A new bearer token for `user`; only its hash is stored, so the plain text is returned once."""
    if not user.is_active:
        raise DomainError("Cannot issue a token to a deactivated user")
    days = current_app.config["TTS_API_TOKEN_DAYS"] if days is None else days
    if not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailed({"days": [f"Enter a whole number of days from 1 to {MAX_TOKEN_DAYS}"]})
    plain = "tts_" + secrets.token_urlsafe(32)
    token = ApiToken(user=user, token_hash=_hash_token(plain), prefix=plain[:10],
                     expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    record_event(actor, "api_token.create", user, {"token_id": token.id, "expires_at": token.expires_at.isoformat()})
    return token, plain


def user_for_token(plain: str) -> tuple[User, ApiToken] | None:
    """The active user holding this unexpired, unrevoked token."""
    token = db.session.scalar(select(ApiToken).options(joinedload(ApiToken.user))
                              .where(ApiToken.token_hash == _hash_token(plain)))
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    # "Last used" to the minute: an integration making many calls a second writes the row once a minute.
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    return token.user, token


def update_profile(actor: User, *, phone: str | None, languages: str | None, confirmation: str | None = None) -> User:
    """A member of staff's own phone (rung for masked calls, never shown to others) and languages. A new
    phone needs their password or a fresh authenticator code: whoever holds the phone hears the calls."""
    from tts.auth.mfa import CONFIRM_MESSAGE, confirm_identity
    from tts.people.validation import normalise_phone

    errors = ErrorCollector()
    clean_phone = None
    if phone and phone.strip():
        try:
            clean_phone = normalise_phone(phone)
        except ValueError as exc:
            errors.add("phone", str(exc))
    names = [" ".join(part.split()).capitalize() for part in (languages or "").split(",") if part.strip()]
    if any(len(n) > 40 for n in names) or len(", ".join(names)) > 200:
        errors.add("languages", "List languages separated by commas, like Polish, Urdu")
    if "phone" not in errors and clean_phone != actor.phone and not confirm_identity(actor, confirmation or ""):
        errors.add("confirmation", CONFIRM_MESSAGE + " to change your phone number")
    errors.raise_if_any()
    actor.phone = clean_phone
    actor.languages = ", ".join(dict.fromkeys(names)) or None
    db.session.flush()
    record_event(actor, "user.profile_update", actor, {"fields": ["phone", "languages"]})
    return actor


def revoke_api_token(actor: User, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event(actor, "api_token.revoke", token.user, {"token_id": token.id})
    return token
