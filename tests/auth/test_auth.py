"""Signing in and out, user administration, CSRF, and the users CLI."""
from sqlalchemy import select

from tests.conftest import PASSWORD, sign_in
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


def test_next_redirect_stays_on_the_site(client, make_user):
    user = make_user("tracer")
    ok = client.post("/login?next=/cases/", data={"email": user["email"], "password": PASSWORD})
    assert ok.headers["Location"] == "/cases/"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/login?next=" + evil, data={"email": user["email"], "password": PASSWORD})
        assert response.headers["Location"] == "/", evil
        client.post("/logout")


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
    result = runner.invoke(args=["users", "create", "cli.user@tts.example", "--role", "supervisor",
                                 "--password", "a-long-cli-password", "--name", "Cleo Cli"])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(args=["users", "create", "cli.user@tts.example", "--role", "supervisor",
                              "--password", "short", "--name", "Cleo Cli"])
    assert bad.exit_code == 1 and "already exists" in bad.output and "at least 12" in bad.output
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
    ok = tracer_client.post("/account", data={"phone": "07700 900999", "languages": "polish,  urdu ,Polish"})
    assert ok.status_code == 302
    with app.app_context():
        user = db.session.get(User, tracer_client.user["id"])
        assert user.phone == "+447700900999" and user.languages == "Polish, Urdu"
        assert user.language_list == ["Polish", "Urdu"]
