"""Two-factor sign-in, throttling, server-side sessions, cookies and security headers."""
import re
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, ROOT, sign_in, totp_code
from tts.audit.models import AuditEvent
from tts.auth.models import RecoveryCode, User, UserSession
from tts.extensions import db


def _actions(app, user_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.record_type == "user", AuditEvent.record_id == user_id).order_by(AuditEvent.id)))


# --- Two-factor sign-in ------------------------------------------------------------------------------


def test_first_sign_in_enrols_the_authenticator_and_gives_recovery_codes_once(app, client, make_user):
    user = make_user("tracer", totp_secret=None, totp_enrolled_at=None)
    response = client.post("/login", data={"email": user["email"], "password": PASSWORD})
    assert response.location.endswith("/login/enrol")
    assert client.get("/").status_code == 302  # the password alone signs nobody in
    page = client.get("/login/enrol").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page and "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]
    wrong = client.post("/login/enrol", data={"code": "000000"})
    assert wrong.status_code == 400 and "Enter the 6-digit code" in wrong.get_data(as_text=True)
    done = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10
    assert client.get("/").status_code == 200  # signed in
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user["id"])).all()
        assert len(stored) == 10 and not set(codes) & set(stored)  # hashed, never the codes themselves
        assert db.session.get(User, user["id"]).totp_secret == secret
    assert _actions(app, user["id"])[-2:] == ["auth.mfa_enrol", "auth.login"]

    # A recovery code signs in once.
    client.post("/logout")
    client.post("/login", data={"email": user["email"], "password": PASSWORD})
    assert client.post("/login/code", data={"code": codes[3].upper()}).status_code == 302
    client.post("/logout")
    client.post("/login", data={"email": user["email"], "password": PASSWORD})
    again = client.post("/login/code", data={"code": codes[3]})
    assert again.status_code == 400 and client.get("/").status_code == 302


def test_a_code_works_once_and_a_wrong_code_is_refused_and_audited(app, client, make_user, daytime):
    user = make_user("tracer")
    code = totp_code(user["totp_secret"])
    client.post("/login", data={"email": user["email"], "password": PASSWORD})
    assert client.post("/login/code", data={"code": "123456" if code != "123456" else "654321"}).status_code == 400
    assert client.post("/login/code", data={"code": code}).status_code == 302
    client.post("/logout")
    client.post("/login", data={"email": user["email"], "password": PASSWORD})
    replay = client.post("/login/code", data={"code": code})
    assert replay.status_code == 400  # the same code, seconds later: refused
    daytime.shift(timedelta(seconds=30))
    assert client.post("/login/code", data={"code": totp_code(user["totp_secret"])}).status_code == 302
    with app.app_context():
        failed = db.session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "auth.login_failed", AuditEvent.record_id == user["id"])).all()
        assert [d["reason"] for d in failed] == ["bad second factor", "bad second factor"]


def test_the_password_step_expires(client, make_user, daytime):
    user = make_user("tracer")
    client.post("/login", data={"email": user["email"], "password": PASSWORD})
    daytime.shift(timedelta(minutes=6))
    response = client.post("/login/code", data={"code": totp_code(user["totp_secret"])})
    assert response.status_code == 302 and response.location == "/login"


def test_admin_resets_a_second_factor_audited_and_the_user_is_signed_out(app, admin_client, make_user, client):
    tracer = make_user("tracer")
    tracer_browser = app.test_client()
    sign_in(tracer_browser, tracer)
    assert tracer_browser.get("/").status_code == 200
    page = admin_client.get(f"/admin/users/{tracer['id']}").get_data(as_text=True)
    assert "Reset two-factor sign-in" in page
    response = admin_client.post(f"/admin/users/{tracer['id']}/reset-mfa")
    assert response.status_code == 302
    assert tracer_browser.get("/").status_code == 302  # their open session ended
    with app.app_context():
        user = db.session.get(User, tracer["id"])
        assert user.totp_secret is None and not user.recovery_codes
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.mfa_reset")).one()
        assert event.actor_id == admin_client.user["id"] and event.record_id == tracer["id"]
    again = tracer_browser.post("/login", data={"email": tracer["email"], "password": PASSWORD})
    assert again.location.endswith("/login/enrol")
    assert admin_client.post(f"/admin/users/{admin_client.user['id']}/reset-mfa").status_code == 302
    with app.app_context():
        assert db.session.get(User, admin_client.user["id"]).totp_secret is not None  # not your own


def test_tracers_cannot_reset_second_factors(tracer_client, make_user):
    other = make_user("tracer")
    assert tracer_client.post(f"/admin/users/{other['id']}/reset-mfa").status_code == 403


# --- Throttling --------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_for_a_while(app, client, make_user, daytime):
    user = make_user("tracer")
    for _ in range(5):
        assert client.post("/login", data={"email": user["email"], "password": "not-the-password"}).status_code == 400
    refused = client.post("/login", data={"email": user["email"], "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts. Wait 15 minutes" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    other = make_user("tracer")
    sign_in(app.test_client(), other)  # other accounts from the same address still sign in
    daytime.shift(timedelta(minutes=15, seconds=1))
    sign_in(client, user)
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("auth.login"))).all()
        assert actions.count("auth.login_failed") == 5 and "auth.login_throttled" in actions


def test_twenty_failures_from_one_address_pause_every_sign_in_from_it(app, client, make_user, daytime):
    for n in range(20):
        client.post("/login", data={"email": f"guess{n}@tts.example", "password": "guessing-passwords"})
    user = make_user("tracer")
    assert client.post("/login", data={"email": user["email"], "password": PASSWORD}).status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    sign_in(elsewhere, user)


def test_wrong_codes_count_towards_the_account_limit(client, make_user):
    user = make_user("tracer")
    client.post("/login", data={"email": user["email"], "password": PASSWORD})
    for _ in range(5):
        client.post("/login/code", data={"code": "000000"})
    assert client.post("/login/code", data={"code": totp_code(user["totp_secret"])}).status_code == 429


# --- Sessions ----------------------------------------------------------------------------------------


def test_idle_sessions_end_after_30_minutes_with_a_message(client, make_user, daytime):
    user = make_user("tracer")
    sign_in(client, user)
    daytime.shift(timedelta(minutes=25))
    assert client.get("/").status_code == 200  # activity keeps it alive
    daytime.shift(timedelta(minutes=29))
    status = client.get("/session/status").json
    assert 0 < status["seconds_left"] <= 60 and status["warn_seconds"] == 300
    assert client.post("/session/extend", headers={"Accept": "application/json"}).json["seconds_left"] == 1800
    daytime.shift(timedelta(minutes=31))
    response = client.get("/cases/")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert "the session timed out" in client.get(response.location).get_data(as_text=True)


def test_status_polling_does_not_keep_a_session_alive(client, make_user, daytime):
    user = make_user("tracer")
    sign_in(client, user)
    for _ in range(4):
        daytime.shift(timedelta(minutes=9))
        client.get("/session/status")
    assert client.get("/").status_code == 302


def test_sessions_end_after_12_hours_however_active(client, make_user, daytime):
    sign_in(client, make_user("tracer"))
    for _ in range(35):
        daytime.shift(timedelta(minutes=20))
        assert client.get("/").status_code == 200
    daytime.shift(timedelta(minutes=20))
    assert client.get("/").status_code == 302


def test_sign_out_ends_the_session_on_the_server(app, client, make_user):
    sign_in(client, make_user("tracer"))
    cookie = client.get_cookie("session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie)  # a copy of the cookie taken before sign-out
    assert thief.get("/").status_code == 302
    with app.app_context():
        row = db.session.scalars(select(UserSession).order_by(UserSession.id.desc())).first()
        assert row.ended_reason == "signed_out"


def test_changing_a_password_ends_the_users_other_sessions(app, make_user):
    user = make_user("tracer")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, user)
    phone.application.config["TTS_MFA_REPLAY_GUARD"] = False
    try:
        sign_in(phone, user)
    finally:
        app.config["TTS_MFA_REPLAY_GUARD"] = True
    weak = laptop.post("/account/password", data={"current_password": PASSWORD, "new_password": "password1234"})
    assert weak.status_code == 400 and "too common" in weak.get_data(as_text=True)
    wrong = laptop.post("/account/password", data={"current_password": "nope", "new_password": "violet-tram-lantern"})
    assert "Your current password is not right" in wrong.get_data(as_text=True)
    done = laptop.post("/account/password", data={"current_password": PASSWORD, "new_password": "violet-tram-lantern"},
                       follow_redirects=True)
    assert "signed out of 1 other session" in done.get_data(as_text=True)
    assert laptop.get("/").status_code == 200 and phone.get("/").status_code == 302
    assert "auth.password_change" in _actions(app, user["id"])


def test_an_admin_password_reset_or_deactivation_ends_every_session(app, admin_client, make_user):
    user = make_user("tracer")
    browser = app.test_client()
    sign_in(browser, user)
    admin_client.post(f"/admin/users/{user['id']}", data={"name": "Tess", "role": "tracer", "is_active": "y",
                                                          "password": "amber-kettle-orchard"})
    assert browser.get("/").status_code == 302


def test_production_cookies_are_host_prefixed_secure_httponly_lax(fresh_database_url):
    from tts import create_app

    app = create_app("production", SECRET_KEY="x" * 32, SQLALCHEMY_DATABASE_URI="sqlite://", TTS_SIMULATED_TWILIO=True)
    response = app.test_client().get("/login", base_url="https://tts.example")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- Headers and pages -------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(client, tracer_client):
    for fetch in (lambda: client.get("/login"), lambda: tracer_client.get("/"), lambda: client.get("/api/v1/cases"),
                  lambda: client.get("/static/tts.css"), lambda: client.get("/no-such-page")):
        with fetch() as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in client.get("/login").headers  # HSTS only in production


def test_no_template_has_inline_script_or_event_handler_attributes():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = Path(path).read_text()
        for match in re.finditer(r"<script(?P<attrs>[^>]*)>", text):
            if "src=" not in match.group("attrs"):
                offenders.append(f"{path.name}: inline <script>")
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{path.name}: event handler attribute")
    assert offenders == []


def test_oversized_request_bodies_are_refused(client, tracer_client, app, api_token):
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    headers, _ = api_token("tracer")
    response = client.post("/api/v1/cases", data=big, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json["error"] == "The request is too large"
    assert response.json["request_id"] == response.headers["X-Request-ID"]  # for the caller to quote
    page = tracer_client.post("/cases/new", data=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert page.status_code == 413 and "too large" in page.get_data(as_text=True)


@pytest.mark.no_rollback
def test_throttling_counts_are_shared_by_every_process_through_the_database(fresh_database_url):
    """Two web processes (two apps: they share nothing in memory) on one database, with no extra set-up: the
    account locks after 5 wrong passwords in all, not 5 each. Before, gunicorn's processes each counted."""
    from tests.conftest import make_app

    url = fresh_database_url("throttle_db")
    first, second = make_app(url), make_app(url)
    with first.app_context():
        from tts.auth.services import create_user

        create_user(None, email="shared-db@tts.example", name="Sam Shared", role="tracer",
                    password="quartz-meadow-lamp-orbit")
        db.session.commit()
    try:
        for n in range(5):
            app = first if n % 2 else second
            wrong = app.test_client().post("/login", data={"email": "shared-db@tts.example",
                                                            "password": "wrong-password-x"})
            assert wrong.status_code == 400
        for app in (first, second):
            refused = app.test_client().post("/login", data={"email": "shared-db@tts.example",
                                                              "password": "quartz-meadow-lamp-orbit"})
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 800
        with first.app_context():
            from sqlalchemy import select

            from tts.auth.models import SigninFailure

            stored = db.session.scalars(select(SigninFailure.key_hash)).all()
            assert stored and all(len(h) == 64 and "shared" not in h for h in stored)  # hashed, never the email
    finally:
        for app in (first, second):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.mark.no_rollback
def test_throttling_counts_are_shared_through_redis_when_configured(fresh_database_url):
    """Two web processes (two apps here) with RATELIMIT_STORAGE_URI pointing at one Redis share the count."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    from tests.conftest import make_app

    url = fresh_database_url("throttle")
    uri = "redis://127.0.0.1:6379/15"
    first, second = make_app(url, RATELIMIT_STORAGE_URI=uri), make_app(url, RATELIMIT_STORAGE_URI=uri)
    first.extensions["tts_throttle"].reset()
    try:
        for _ in range(3):
            first.test_client().post("/login", data={"email": "shared@tts.example", "password": "wrong-password-x"})
        for _ in range(2):
            second.test_client().post("/login", data={"email": "shared@tts.example", "password": "wrong-password-x"})
        refused = first.test_client().post("/login", data={"email": "shared@tts.example", "password": "x" * 12})
        assert refused.status_code == 429
    finally:
        first.extensions["tts_throttle"].reset()
        for app in (first, second):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
