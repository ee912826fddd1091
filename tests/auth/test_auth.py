"""Signing in and out, user administration, CSRF, and the users CLI."""
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, sign_in, totp_code
from tts.audit.models import AuditEvent
from tts.auth.models import ApiToken, User
from tts.extensions import db


def test_sign_in_and_out(client, make_user):
    user = make_user("tracer")
    assert client.get("/").status_code == 302
    sign_in(client, user)
    home = client.get("/")
    assert home.status_code == 200 and "Log a new case" in home.get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_wrong_password_is_refused_with_a_message_and_audited(app, client, make_user):
    user = make_user("tracer")
    response = client.post("/login", data={"email": user["email"], "password": "wrong-password-here"})
    assert response.status_code == 400
    assert "Enter a correct email address and password" in response.get_data(as_text=True)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).one()
        assert event.record_id == user["id"] and event.ip == "127.0.0.1"


def test_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user("tracer", is_active=False)
    assert client.post("/login", data={"email": user["email"], "password": PASSWORD}).status_code == 400


def test_next_redirect_stays_on_the_site(app, client, make_user):
    app.config["TTS_MFA_REPLAY_GUARD"] = False  # four sign-ins inside one 30-second code window
    try:
        user = make_user("tracer")
        client.post("/login?next=/cases/", data={"email": user["email"], "password": PASSWORD})
        ok = client.post("/login/code", data={"code": totp_code(user["totp_secret"])})
        assert ok.headers["Location"] == "/cases/"
        client.post("/logout")
        for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
            client.post("/login?next=" + evil, data={"email": user["email"], "password": PASSWORD})
            response = client.post("/login/code", data={"code": totp_code(user["totp_secret"])})
            assert response.headers["Location"] == "/queue/", evil  # their own work, never elsewhere
            client.post("/logout")
    finally:
        app.config["TTS_MFA_REPLAY_GUARD"] = True


def test_post_without_csrf_token_is_refused(app, client, make_user):
    user = make_user("tracer")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/login", data={"email": user["email"], "password": PASSWORD})
        assert response.status_code == 400
        assert "The CSRF token is missing" in response.get_data(as_text=True) or response.status_code == 400
        page = client.get("/login").get_data(as_text=True)
        assert 'name="csrf_token"' in page
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        ok = client.post("/login", data={"email": user["email"], "password": PASSWORD, "csrf_token": token})
        assert ok.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_admin_creates_edits_and_deactivates_a_user(app, admin_client):
    response = admin_client.post("/admin/users/new", data={"name": "Nell Newcomer", "email": "Nell@TTS.example",
                                                          "role": "tracer", "password": "long-enough-password"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nell@tts.example"))
        assert user.role == "tracer" and user.password_hash.startswith("pbkdf2") and "long-enough" not in user.password_hash
        user_id = user.id
    duplicate = admin_client.post("/admin/users/new", data={"name": "Nell Again", "email": "nell@tts.example",
                                                           "role": "tracer", "password": "long-enough-password"})
    assert "A user with this email address already exists" in duplicate.get_data(as_text=True)
    short = admin_client.post("/admin/users/new", data={"name": "Shorty", "email": "s@tts.example",
                                                       "role": "bogus", "password": "short"})
    html = short.get_data(as_text=True)
    assert short.status_code == 400 and "at least 12 characters" in html and "Choose a role" in html
    edit = admin_client.post(f"/admin/users/{user_id}", data={"name": "Nell Newcomer", "role": "supervisor"})
    assert edit.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.role == "supervisor" and user.is_active is False  # unticked box deactivates
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.record_id == user_id,
                                                                     AuditEvent.record_type == "user")).all()
        assert "user.create" in actions and "user.update" in actions


def test_admin_cannot_demote_themselves(admin_client):
    me = admin_client.user
    response = admin_client.post(f"/admin/users/{me['id']}", data={"name": "Me", "role": "tracer", "is_active": "y"})
    assert response.status_code == 400
    assert "cannot change your own role" in response.get_data(as_text=True)


def test_tracer_cannot_manage_users(tracer_client):
    assert tracer_client.get("/admin/users").status_code == 403
    assert tracer_client.post("/admin/users/new", data={}).status_code == 403


def test_users_cli_creates_a_user_and_prints_a_token_last(app):
    runner = app.test_cli_runner()
    # Asked for at a hidden prompt, twice (never on the command line, where shell history keeps it).
    result = runner.invoke(args=["users", "create", "cli.user@tts.example", "--role", "supervisor",
                                 "--name", "Cleo Cli"], input="a-long-terminal-passphrase\na-long-terminal-passphrase\n")
    assert result.exit_code == 0, result.output
    assert "a-long-terminal-passphrase" not in result.output  # hidden input is not echoed
    bad = runner.invoke(args=["users", "create", "cli.user@tts.example", "--role", "supervisor",
                              "--password-stdin", "--name", "Cleo Cli"], input="short\n")
    assert bad.exit_code == 1 and "already exists" in bad.output and "at least 12" in bad.output
    from_stdin = runner.invoke(args=["users", "create", "cli.piped@tts.example", "--role", "tracer",
                                     "--password-stdin", "--name", "Pip Piped"], input="another-long-passphrase\n")
    assert from_stdin.exit_code == 0, from_stdin.output
    from tts.auth.services import authenticate

    with app.app_context():
        assert authenticate("cli.piped@tts.example", "another-long-passphrase") is not None
        db.session.rollback()
    mismatch = runner.invoke(args=["users", "create", "cli.typo@tts.example", "--role", "tracer",
                                   "--name", "Tess Typo"], input="first-long-passphrase\nsecond-long-passphrase\n")
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output.lower()
    result = runner.invoke(args=["users", "token", "cli.user@tts.example"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tts_") and len(token) > 40
    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).all()
        assert len(stored) == 1 and token not in stored[0].token_hash and len(stored[0].token_hash) == 64
    response = app.test_client().get("/api/v1/people/999999", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404  # authenticated: the person just does not exist
    missing = runner.invoke(args=["users", "token", "nobody@tts.example"])
    assert missing.exit_code == 1


def test_tracer_records_phone_and_languages_in_their_profile(app, tracer_client):
    bad = tracer_client.post("/account", data={"phone": "12", "languages": "polish"})
    assert bad.status_code == 400 and "07700 900123" in bad.get_data(as_text=True)
    ok = tracer_client.post("/account", data={"phone": "07700 900999", "languages": "polish,  urdu ,Polish",
                                              "confirmation": tracer_client.user["password"]})
    assert ok.status_code == 302
    with app.app_context():
        user = db.session.get(User, tracer_client.user["id"])
        assert user.phone == "+447700900999" and user.languages == "Polish, Urdu"
        assert user.language_list == ["Polish", "Urdu"]


def test_passwords_follow_ncsc_guidance(app):
    from tts.auth.passwords import password_problems

    assert password_problems("short") == ["Password must be at least 12 characters"]
    assert password_problems("Password1234") == ["This password is too common: choose a few unrelated words instead"]
    assert password_problems("zzzzzzzzzzzzzz") == ["This password is too common: choose a few unrelated words instead"]
    assert password_problems("nell-newcomer-rocks", name="Nell Newcomer") == [
        "Password must not contain your name or email address"]
    assert password_problems("my-n.jones-is-secret", email="n.jones@tts.example") == [
        "Password must not contain your name or email address"]
    assert password_problems("purple tractor lighthouse") == []  # no composition rules


def test_admin_form_reports_a_common_password(admin_client):
    response = admin_client.post("/admin/users/new", data={"name": "Pat Common", "email": "pat@tts.example",
                                                          "role": "tracer", "password": "qwerty123456"})
    assert response.status_code == 400 and "too common" in response.get_data(as_text=True)


def test_admin_issues_lists_and_revokes_api_tokens(app, admin_client, make_user, client):
    tracer = make_user("tracer")
    page = admin_client.post(f"/admin/users/{tracer['id']}/tokens", data={"days": "30"})
    html = page.get_data(as_text=True)
    token = html.split('data-testid="new-token">')[1].split("<")[0]
    assert token.startswith("tts_") and "Copy it now" in html
    assert client.get("/api/v1/people/999999", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    with app.app_context():
        stored = db.session.scalars(select(ApiToken).where(ApiToken.user_id == tracer["id"])).one()
        assert token not in admin_client.get(f"/admin/users/{tracer['id']}/tokens").get_data(as_text=True)
        token_id = stored.id
    admin_client.post(f"/admin/tokens/{token_id}/revoke")
    assert client.get("/api/v1/people/999999", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("days", ["-3", "0", "abc", "367", ""])
def test_a_token_lifetime_outside_1_to_366_days_is_refused_on_its_field(app, admin_client, make_user, days):
    tracer = make_user("tracer")
    response = admin_client.post(f"/admin/users/{tracer['id']}/tokens", data={"days": days})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "<title>Error: " in html
    assert '<a href="#days">Enter a whole number of days from 1 to 366</a>' in html and 'id="days-error"' in html
    with app.app_context():
        assert db.session.scalars(select(ApiToken).where(ApiToken.user_id == tracer["id"])).all() == []


def test_each_api_use_is_attributed_to_its_token(app, client, api_token, ctx):
    from tests.factories import person_data
    from tts.cases.services import create_case
    from tts.clock import today

    headers, user = api_token("supervisor")
    with ctx():
        case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        case_id = case.id
    client.get(f"/api/v1/cases/{case_id}", headers=headers)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.view")).one()
        token_id = db.session.scalars(select(ApiToken.id).where(ApiToken.user_id == user["id"])).one()
        assert event.details["token_id"] == token_id and event.via == "api"


# --- Changes a stolen session would want need the password (or a fresh code) again ----------------------


def test_new_recovery_codes_need_the_password_or_a_fresh_code(app, tracer_client):
    from sqlalchemy import select

    from tests.conftest import totp_code
    from tts.auth.models import RecoveryCode

    def hashes():
        with app.app_context():
            return set(db.session.scalars(select(RecoveryCode.code_hash)
                                          .where(RecoveryCode.user_id == tracer_client.user["id"])))

    before = hashes()
    for confirmation in (None, "", "not-my-password", "000000"):
        data = {} if confirmation is None else {"codes-confirmation": confirmation}
        refused = tracer_client.post("/account/recovery-codes", data=data)
        assert refused.status_code == 400, confirmation
        page = refused.get_data(as_text=True)
        assert "govuk-error-summary" in page and 'href="#codes-confirmation"' in page
        assert "Enter your current password, or a code from your authenticator app" in page
        assert hashes() == before
    by_password = tracer_client.post("/account/recovery-codes",
                                     data={"codes-confirmation": tracer_client.user["password"]})
    assert by_password.status_code == 200 and 'data-testid="recovery-codes"' in by_password.get_data(as_text=True)
    assert hashes() != before
    code = totp_code(tracer_client.user["totp_secret"], 1)  # the sign-in used this step's code already
    assert tracer_client.post("/account/recovery-codes", data={"codes-confirmation": code}).status_code == 200
    again = tracer_client.post("/account/recovery-codes", data={"codes-confirmation": code})
    assert again.status_code == 400  # a code works once here too


def test_a_new_phone_for_masked_calls_needs_the_password_but_languages_do_not(app, tracer_client):
    refused = tracer_client.post("/account", data={"phone": "07700 900998", "languages": ""})
    assert refused.status_code == 400 and 'href="#confirmation"' in refused.get_data(as_text=True)
    wrong = tracer_client.post("/account", data={"phone": "07700 900998", "confirmation": "guess-one"})
    assert wrong.status_code == 400
    with app.app_context():
        assert db.session.get(User, tracer_client.user["id"]).phone is None
    assert tracer_client.post("/account", data={"phone": "", "languages": "Welsh"}).status_code == 302


def test_wrong_confirmations_count_as_failed_sign_ins_and_lock(app, tracer_client):
    for _ in range(app.config["TTS_SIGNIN_MAX_FAILURES_ACCOUNT"]):
        assert tracer_client.post("/account/recovery-codes", data={"codes-confirmation": "guess"}).status_code == 400
    locked = tracer_client.post("/account/recovery-codes",
                                data={"codes-confirmation": tracer_client.user["password"]})
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.get_data(as_text=True)


@pytest.mark.parametrize("role, field_officer, lands_on", [
    ("tracer", False, "/queue/"), ("tracer", True, "/escalations/visits"), ("supervisor", False, "/supervise/"),
    ("reporting", False, "/reports/"), ("admin", False, "/admin/users")])
def test_each_role_lands_on_its_own_work(client, make_user, role, field_officer, lands_on):
    user = make_user(role, is_field_officer=field_officer)
    client.post("/login", data={"email": user["email"], "password": PASSWORD})
    response = client.post("/login/code", data={"code": totp_code(user["totp_secret"])})
    assert response.status_code == 302 and response.headers["Location"] == lands_on
    assert client.get(lands_on).status_code == 200
    assert client.get("/").status_code == 200  # the home page is still there


def test_the_favicon_is_served_to_anyone(client):
    """Browsers ask every page for /favicon.ico: it answers (no 404 on every page), without signing in."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon" href="/favicon.ico"' in page and "favicon.svg" in page
