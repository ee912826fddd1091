"""Sign-in, sign-out, home page and user administration."""
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from tts.audit.services import record_event
from tts.auth import bp
from tts.auth.forms import ROLE_CHOICES, LoginForm, ProfileForm, UserCreateForm, UserEditForm
from tts.auth.models import User
from tts.clock import utcnow
from tts.auth.services import authenticate, create_user, update_profile, update_user
from tts.extensions import db, login_manager
from tts.permissions import require
from tts.ui import submit


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
        db.session.commit()  # keep the audit event of the failed attempt
        form.email.errors = ["Enter a correct email address and password"]
    return render_template("auth/login.html", form=form), (200 if not form.errors else 400)


@bp.route("/logout", methods=["POST"])
@require()
def logout():
    record_event(current_user, "auth.logout", current_user)
    db.session.commit()
    logout_user()
    flash("You have signed out", "success")
    return redirect(url_for("auth.login"))


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
        db.session.commit()
        flash(f"Account created for {user.name}", "success")
        return redirect(url_for("auth.users"))
    return render_template("admin/user_form.html", form=form, user=None, role_choices=ROLE_CHOICES), (400 if form.errors else 200)


@bp.route("/admin/users/<id:user_id>", methods=["GET", "POST"])
@require("user.manage")
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    saved = submit(form, lambda: update_user(current_user, user, name=form.name.data or "", role=form.role.data or "",
                                             is_active=bool(form.is_active.data),
                                             is_field_officer=bool(form.is_field_officer.data),
                                             can_export_identifiable=bool(form.can_export_identifiable.data),
                                             password=form.password.data or None), prefix="")
    if saved is not None:
        db.session.commit()
        flash(f"Changes to {user.name} saved", "success")
        return redirect(url_for("auth.users"))
    return render_template("admin/user_form.html", form=form, user=user, role_choices=ROLE_CHOICES), (400 if form.errors else 200)


@bp.route("/account", methods=["GET", "POST"])
@require()
def account():
    form = ProfileForm(obj=current_user)
    saved = submit(form, lambda: update_profile(current_user, phone=form.phone.data, languages=form.languages.data),
                   prefix="")
    if saved is not None:
        db.session.commit()
        flash("Your details are saved", "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), (400 if form.errors else 200)


@bp.route("/admin/users/<id:user_id>/tokens", methods=["GET", "POST"])
@require("user.manage")
def tokens(user_id: int):
    """API tokens are for integrations: issued here (shown once), listed, revoked."""
    from tts.auth.services import issue_api_token
    from tts.errors import DomainError

    user = db.session.get(User, user_id) or abort(404)
    new_token = None
    if request.method == "POST":
        try:
            _, new_token = issue_api_token(current_user, user, request.form.get("days", type=int))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "info")
        else:
            db.session.commit()
    listed = sorted(user.tokens, key=lambda t: t.created_at, reverse=True)
    return render_template("admin/tokens.html", user=user, tokens=listed, new_token=new_token, now=utcnow())


@bp.route("/admin/tokens/<id:token_id>/revoke", methods=["POST"])
@require("user.manage")
def revoke_token(token_id: int):
    from tts.auth.models import ApiToken
    from tts.auth.services import revoke_api_token

    token = db.session.get(ApiToken, token_id) or abort(404)
    revoke_api_token(current_user, token)
    db.session.commit()
    flash(f"Token {token.prefix}… revoked: it no longer works", "success")
    return redirect(url_for("auth.tokens", user_id=token.user_id))
