"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238) and one-time recovery codes."""
import hashlib
import hmac
import io
import secrets

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from tts.audit.services import record_event
from tts.auth.models import RecoveryCode, User
from tts.clock import utcnow
from tts.errors import ValidationFailed
from tts.extensions import db

ISSUER = "Test, trace and support"
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG markup (no script, no external request)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg"):]  # drop the XML declaration for embedding in HTML


def _clean(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()


def _matching_step(secret: str, code: str) -> int | None:
    """The time step a 6-digit code belongs to (now, or one step either side for clock drift)."""
    code = _clean(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    step = totp.timecode(now)
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def confirm_enrolment(user: User, secret: str, code: str) -> list[str]:
    """Save the secret once the user proves their app has it; returns the recovery codes, shown once."""
    step = _matching_step(secret, code)
    if step is None:
        raise ValidationFailed({"code": ["Enter the 6-digit code your authenticator app shows now"]})
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = step
    codes = replace_recovery_codes(user)
    record_event(user, "auth.mfa_enrol", user)
    return codes


def _hash_code(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def regenerate_recovery_codes(user: User, confirmation: str) -> list[str]:
    """New recovery codes for a signed-in user who confirms it is them; the old codes stop working."""
    if not confirm_identity(user, confirmation):
        raise ValidationFailed({"confirmation": [CONFIRM_MESSAGE]})
    codes = replace_recovery_codes(user)
    record_event(user, "auth.recovery_codes_replaced", user)
    return codes


def replace_recovery_codes(user: User) -> list[str]:
    user.recovery_codes.clear()
    plain = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODE_COUNT)]
    for code in plain:
        user.recovery_codes.append(RecoveryCode(code_hash=_hash_code(code)))
    db.session.flush()
    return plain


def check_code(user: User, code: str) -> str | None:
    """'totp' or 'recovery' when the code is good (each code works once), else None."""
    if not user.mfa_enrolled:
        return None
    step = _matching_step(user.totp_secret or "", code)
    if step is not None:
        return "totp" if _consume_step(user, step) else None
    wanted = _hash_code(code)
    for recovery in user.recovery_codes:
        if recovery.used_at is None and hmac.compare_digest(recovery.code_hash, wanted):
            return "recovery" if _consume_recovery_code(recovery) else None
    return None


def _consume_step(user: User, step: int) -> bool:
    """Mark a code's time step used, atomically: one conditional UPDATE, so of several requests presenting
    the same code at the same moment exactly one changes the row (the others wait for its lock on
    PostgreSQL, then find the step used; SQLite lets one writer at a time). A check in Python first and a
    write after would let them all through."""
    if not current_app.config.get("TTS_MFA_REPLAY_GUARD", True):
        set_committed_value(user, "totp_last_step", step)
        return True
    table = User.__table__
    won = db.session.execute(
        table.update().where(table.c.id == user.id,
                             (table.c.totp_last_step.is_(None)) | (table.c.totp_last_step < step))
        .values(totp_last_step=step)).rowcount == 1
    if won:
        set_committed_value(user, "totp_last_step", step)
    return won


def _consume_recovery_code(recovery: RecoveryCode) -> bool:
    """Use a recovery code once, atomically, as _consume_step does for a time step."""
    table = RecoveryCode.__table__
    now = utcnow()
    won = db.session.execute(table.update().where(table.c.id == recovery.id, table.c.used_at.is_(None))
                             .values(used_at=now)).rowcount == 1
    if won:
        set_committed_value(recovery, "used_at", now)
    return won


def confirm_identity(user: User, secret: str) -> bool:
    """A signed-in user proves it is still them before a change an attacker holding their session would want
    (new recovery codes, a new phone for masked calls): their current password, or a fresh code from their
    authenticator app (consumed like a sign-in code, so it works once)."""
    from werkzeug.security import check_password_hash

    secret = (secret or "").strip()
    if not secret:
        return False
    if check_password_hash(user.password_hash, secret):
        return True
    step = _matching_step(user.totp_secret or "", secret) if user.mfa_enrolled else None
    return step is not None and _consume_step(user, step)


CONFIRM_MESSAGE = "Enter your current password, or a code from your authenticator app"


def recovery_codes_left(user: User) -> int:
    return sum(1 for c in user.recovery_codes if c.used_at is None)


def reset(actor: User, user: User) -> None:
    """An admin clears a user's second factor (lost phone): they enrol again at their next sign-in."""
    from tts.auth.sessions import end_sessions

    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    user.recovery_codes.clear()
    end_sessions(user, reason="mfa_reset")
    db.session.flush()
    record_event(actor, "user.mfa_reset", user)
