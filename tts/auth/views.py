"""Sign-in, sign-out, home page and user administration."""
from urllib.parse import urlsplit

import time

from flask import (abort, current_app, flash, g, jsonify, make_response, redirect, render_template, request, session,
                   url_for)
from markupsafe import Markup
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from tts.audit.services import record_event
from tts.auth import bp
from tts.auth import mfa, sessions
from tts.auth.forms import (ROLE_CHOICES, CodeForm, EnrolForm, LoginForm, PasswordChangeForm, ProfileForm,
                            RecoveryCodesForm, UserCreateForm, UserEditForm)
from tts.auth.throttle import throttle
from tts.ops.metrics import signin_failed
from tts.errors import ValidationFailed
from tts.auth.models import User
from tts.clock import utcnow
from tts.auth.services import authenticate, create_user, update_profile, update_user
from tts.extensions import db, login_manager
from tts.permissions import has_permission, public, require
from tts.ui import submit
from tts.transaction import undo


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user, but only while their server-side session is alive."""
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    ended = sessions.check_session(user, touch=request.endpoint not in sessions.PASSIVE_ENDPOINTS)
    if ended is not None:
        g.session_ended = ended
        return None
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    ended = g.pop("session_ended", None)
    if ended in ("idle", "expired"):
        flash("You were signed out because the session timed out. Sign in again to carry on.", "info")
    elif ended is not None and ended != "unknown":
        flash("Your session has ended. Sign in again to carry on.", "info")
    else:
        flash("Sign in to continue", "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))


login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue"
login_manager.login_message_category = "info"


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.route("/")
@require()
def home():
    return render_template("home.html")


PENDING = "tts_pending_signin"  # the password step passed: {user_id, at, next}
PENDING_SECONDS = 300


def _client_address() -> str:
    return request.remote_addr or ""


def _refuse_throttled(form, account: str, template: str, **context):
    wait = throttle().retry_after(account, _client_address())
    if wait is None:
        return None
    minutes = max(1, round(wait / 60))
    form.errors  # noqa: B018  (build the errors dict)
    field = "email" if "email" in form else "code"
    form[field].errors = [f"Too many failed sign-in attempts. Wait {minutes} minute{'s' if minutes != 1 else ''} "
                          "and try again, or ask an administrator to check your account."]
    record_event(None, "auth.login_throttled", None, {"minutes": minutes})
    response = make_response(render_template(template, form=form, **context), 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user_id"))
    return user if user is not None and user.is_active else None


def landing_for(user: User) -> str:
    """Where a role's day starts: a tracer's own calls, a field officer's visits, a supervisor's dashboard,
    the figures for council staff, the staff accounts for an administrator."""
    if getattr(user, "is_field_officer", False):
        return url_for("escalation.visits")
    for permission, endpoint in (("supervise", "supervision.dashboard"), ("queue.work", "callqueue.my_work"),
                                 ("user.manage", "auth.users"), ("reports.view", "reports.kpis")):
        if has_permission(user, permission):
            return url_for(endpoint)
    return url_for("auth.home")


def _finish_sign_in(user: User, method: str):
    next_url = (session.get(PENDING) or {}).get("next")
    sessions.start_session(user)  # clears the pending step and anything else from before
    login_user(user)
    user.last_login_at = utcnow()
    throttle().succeeded(user.email)
    record_event(user, "auth.login", user, {"second_factor": method})
    wanted = _safe_next(next_url)
    return redirect(wanted if wanted and wanted != url_for("auth.home") else landing_for(user))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if request.method == "POST":
        account = (form.email.data or "").strip().lower()
        refused = _refuse_throttled(form, account, "auth/login.html")
        if refused is not None:
            return refused
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            session.clear()
            session[PENDING] = {"user_id": user.id, "at": time.time(), "next": _safe_next(request.args.get("next"))}
            return redirect(url_for("auth.login_code" if user.mfa_enrolled else "auth.enrol"))
        throttle().failed((form.email.data or "").strip().lower(), _client_address())
        signin_failed("password")
        form.email.errors = ["Enter a correct email address and password"]
    return render_template("auth/login.html", form=form), (200 if not form.errors else 400)


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    """The second step: a code from the authenticator app, or a one-time recovery code."""
    user = _pending_user()
    if user is None:
        flash("Sign in again: enter your email address and password", "info")
        return redirect(url_for("auth.login"))
    if not user.mfa_enrolled:
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if request.method == "POST":
        refused = _refuse_throttled(form, user.email, "auth/login_code.html")
        if refused is not None:
            return refused
    if form.validate_on_submit():
        method = mfa.check_code(user, form.code.data or "")
        if method is not None:
            if method == "recovery":
                flash(f"You used a recovery code: {mfa.recovery_codes_left(user)} left. Each works once.", "info")
            return _finish_sign_in(user, method)
        throttle().failed(user.email, _client_address())
        signin_failed("code")
        record_event(None, "auth.login_failed", user, {"reason": "bad second factor"})
        form.code.errors = ["Enter the 6-digit code your authenticator app shows now, or an unused recovery code"]
    return render_template("auth/login_code.html", form=form), (200 if not form.errors else 400)


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
def enrol():
    """First sign-in (or after an admin reset): set up the authenticator app, then see recovery codes once."""
    user = _pending_user()
    if user is None:
        flash("Sign in again: enter your email address and password", "info")
        return redirect(url_for("auth.login"))
    if user.mfa_enrolled:
        return redirect(url_for("auth.login_code"))
    secret = session.get("tts_enrol_secret") or mfa.new_secret()
    session["tts_enrol_secret"] = secret
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = mfa.confirm_enrolment(user, secret, form.code.data or "")
        except ValidationFailed as exc:
            undo()
            throttle().failed(user.email, _client_address())
            signin_failed("enrol")
            form.code.errors = exc.errors["code"]
        else:
            response = _finish_sign_in(user, "totp")
            return render_template("auth/recovery_codes.html", codes=codes, next_url=response.location)
    # Accepted bandit B704: qrcode's own SVG (paths only, no text from the user).
    qr = Markup(mfa.qr_svg(mfa.provisioning_uri(user, secret)))  # nosec B704
    return render_template("auth/enrol.html", form=form, secret=secret, qr=qr, user=user), \
        (200 if not form.errors else 400)


@bp.route("/logout", methods=["POST"])
@require()
def logout():
    record_event(current_user, "auth.logout", current_user)
    sessions.end_current_session("signed_out")
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.login"))


@bp.route("/session/extend", methods=["POST"])
@require()
def session_extend():
    """The time-out warning's "Stay signed in" button."""
    left = sessions.extend()
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify({"seconds_left": left})
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.home"))


@bp.route("/session/status")
@require()
def session_status():
    """Seconds left before an idle time-out; polling this does not extend the session."""
    return jsonify({"seconds_left": sessions.seconds_left(),
                    "warn_seconds": current_app.config["TTS_SESSION_WARN_MINUTES"] * 60})


@bp.route("/admin/users")
@require("user.manage")
def users():
    all_users = db.session.scalars(select(User).order_by(User.is_active.desc(), User.name)).all()
    return render_template("admin/users.html", users=all_users)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require("user.manage")
def user_new():
    form = UserCreateForm()
    user = submit(form, lambda: create_user(current_user, email=form.email.data or "", name=form.name.data or "",
                                            role=form.role.data or "", password=form.password.data or ""),
                  prefix="")
    if user is not None:
        flash(f"Account created for {user.name}", "success")
        return redirect(url_for("auth.users"))
    return render_template("admin/user_form.html", form=form, user=None, role_choices=ROLE_CHOICES), (400 if form.errors else 200)


@bp.route("/admin/users/<id:user_id>", methods=["GET", "POST"])
@require("user.manage", record="role")
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    saved = submit(form, lambda: update_user(current_user, user, name=form.name.data or "", role=form.role.data or "",
                                             is_active=bool(form.is_active.data),
                                             is_field_officer=bool(form.is_field_officer.data),
                                             can_export_identifiable=bool(form.can_export_identifiable.data),
                                             password=form.password.data or None), prefix="")
    if saved is not None:
        flash(f"Changes to {user.name} saved", "success")
        return redirect(url_for("auth.users"))
    return render_template("admin/user_form.html", form=form, user=user, role_choices=ROLE_CHOICES), (400 if form.errors else 200)


@bp.route("/account", methods=["GET", "POST"])
@require()
def account():
    form = ProfileForm(obj=current_user)
    if form.is_submitted() and _throttled_confirmation(form):
        return _account_page(form, 429)
    saved = submit(form, lambda: update_profile(current_user, phone=form.phone.data, languages=form.languages.data,
                                                confirmation=form.confirmation.data), prefix="")
    _count_failed_confirmation(form)
    if saved is not None:
        flash("Your details are saved", "success")
        return redirect(url_for("auth.account"))
    return _account_page(form, 400 if form.errors else 200)


def _account_page(form, status: int, codes_form=None):
    codes_form = codes_form or RecoveryCodesForm(formdata=None, prefix="codes")
    return render_template("auth/account.html", form=form, codes_form=codes_form), status


def _throttled_confirmation(form) -> bool:
    """Re-confirming a password counts as a sign-in attempt: a stolen session cannot guess it freely."""
    wait = throttle().retry_after(current_user.email, _client_address())
    if wait is None:
        return False
    form.errors  # noqa: B018  (build the errors dict)
    minutes = max(1, round(wait / 60))
    form.confirmation.errors = [f"Too many wrong passwords or codes. Wait {minutes} minute{'s' if minutes != 1 else ''}"
                                " and try again."]
    return True


def _count_failed_confirmation(form) -> None:
    if form.confirmation.errors:
        throttle().failed(current_user.email, _client_address())
        record_event(current_user, "auth.confirm_failed", current_user)


@bp.route("/admin/users/<id:user_id>/tokens", methods=["GET", "POST"])
@require("user.manage", record="role")
def tokens(user_id: int):
    """API tokens are for integrations: issued here (shown once), listed, revoked."""
    from tts.auth.services import issue_api_token
    from tts.errors import DomainError, ValidationFailed

    user = db.session.get(User, user_id) or abort(404)
    new_token, errors, days = None, {}, "90"
    if request.method == "POST":
        days = request.form.get("days", "").strip()
        try:
            _, new_token = issue_api_token(current_user, user, int(days) if days.isdigit() else -1)
        except ValidationFailed as exc:
            undo()
            errors = exc.errors
        except DomainError as exc:
            undo()
            flash(str(exc), "info")
        else:
            days = "90"
    listed = sorted(user.tokens, key=lambda t: t.created_at, reverse=True)
    return render_template("admin/tokens.html", user=user, tokens=listed, new_token=new_token, now=utcnow(),
                           errors=errors, days=days), 400 if errors else 200


@bp.route("/admin/tokens/<id:token_id>/revoke", methods=["POST"])
@require("user.manage", record="role")
def revoke_token(token_id: int):
    from tts.auth.models import ApiToken
    from tts.auth.services import revoke_api_token

    token = db.session.get(ApiToken, token_id) or abort(404)
    revoke_api_token(current_user, token)
    flash(f"Token {token.prefix}… revoked: it no longer works", "success")
    return redirect(url_for("auth.tokens", user_id=token.user_id))


@bp.route("/account/password", methods=["GET", "POST"])
@require()
def password_change():
    from tts.auth.services import change_password

    form = PasswordChangeForm()
    ended = submit(form, lambda: change_password(current_user, current=form.current_password.data or "",
                                                 new=form.new_password.data or ""), prefix="")
    if ended is not None:
        others = f" You were signed out of {ended} other session{'s' if ended != 1 else ''}." if ended else ""
        flash("Your password is changed." + others, "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form), (400 if form.errors else 200)


@bp.route("/account/recovery-codes", methods=["POST"])
@require()
def recovery_codes():
    """New recovery codes (the old ones stop working), shown once: only after the user confirms it is them."""
    codes_form = RecoveryCodesForm(prefix="codes")
    profile = ProfileForm(formdata=None, obj=current_user)
    if _throttled_confirmation(codes_form):
        return _account_page(profile, 429, codes_form)
    codes = submit(codes_form, lambda: mfa.regenerate_recovery_codes(current_user, codes_form.confirmation.data or ""),
                   prefix="")
    _count_failed_confirmation(codes_form)
    if codes is None:
        return _account_page(profile, 400, codes_form)
    return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("auth.account"))


@bp.route("/admin/users/<id:user_id>/reset-mfa", methods=["POST"])
@require("user.manage", record="role")
def reset_mfa(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        flash("Ask another administrator to reset your own second factor", "info")
        return redirect(url_for("auth.user_edit", user_id=user.id))
    mfa.reset(current_user, user)
    flash(f"Second factor reset for {user.name}: they set up their authenticator app again at their next sign-in, "
          "and their open sessions have ended", "success")
    return redirect(url_for("auth.user_edit", user_id=user.id))
