"""The shipped nginx site (deploy/nginx-tts.conf) in front of two app servers started as production starts them
(gunicorn with gunicorn.conf.py, TTS_CONFIG=production, TTS_PROXY_COUNT=1), on loopback: pages, sign-in with
Secure cookies over TLS, static files served by nginx with long cache headers, the client's real address in
the audit log, the webhooks' signatures, request ids, and a session that works on either server."""
import re

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import make_app
from tests.deployment.stack import Client, Stack, direct, nginx_binary
from tts.extensions import db

pytestmark = [pytest.mark.no_rollback, pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed "
                                                          "(scripts/ensure_nginx.sh installs it)")]


@pytest.fixture(scope="module")
def stack(fresh_database_url, tmp_path_factory):
    url = fresh_database_url("nginx")
    app = make_app(url)
    with app.app_context():
        from tests.factories import UserFactory

        user = UserFactory(role="supervisor", email="nginx.supervisor@tts.example")
        db.session.commit()
        account = {"email": user.email, "password": "correct horse battery staple", "totp_secret": user.totp_secret}
        from tts.auth.services import hash_password

        user.password_hash = hash_password(account["password"])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    with Stack(tmp_path_factory.mktemp("stack"), url, app_servers=2) as running:
        running.account = account
        yield running


def _events(database_url: str, action: str) -> list:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT ip, details FROM audit_events WHERE action = :a ORDER BY id"),
                                      {"a": action}).all()
    finally:
        engine.dispose()


def test_pages_and_request_ids_through_nginx(stack):
    client = Client(stack)
    status, headers, page = client.get("/login")
    assert status == 200 and b"Sign in" in page
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])  # nginx's $request_id, kept by the app
    status, headers, _ = client.get("/login", headers={"X-Request-ID": "council-proxy-000123"})
    assert headers["x-request-id"] == "council-proxy-000123"
    assert headers["strict-transport-security"].startswith("max-age=")
    assert client.get("/metrics")[0] == 404  # never through the public site


def test_static_files_come_from_nginx_with_long_cache_headers(stack):
    client = Client(stack)
    _, _, page = client.get("/login")
    css = re.search(rb'href="(/static/tts\.css\?v=[0-9a-f]{12})"', page).group(1).decode()
    status, headers, body = client.get(css)
    assert status == 200 and body.startswith(b"/*") or len(body) > 100
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-security-policy" not in headers  # nginx answered: the app sets it on everything it sends
    status, headers, _ = client.get("/static/tts.css")
    assert status == 200 and headers["cache-control"] == "public, max-age=86400"


def test_sign_in_over_tls_with_secure_cookies_and_the_clients_address_audited(stack):
    """From 127.0.0.2 (the app servers only ever see nginx, at 127.0.0.1), claiming another address in
    X-Forwarded-For: the audit log has the real one."""
    client = Client(stack, source="127.0.0.2")
    token = client.csrf("/login")
    status, _, _ = client.post("/login", {"email": stack.account["email"], "password": "wrong password",
                                          "csrf_token": token}, headers={"X-Forwarded-For": "203.0.113.66"})
    assert status == 400
    failed = _events(stack.database_url, "auth.login_failed")
    assert failed and failed[-1].ip == "127.0.0.2"
    client.sign_in(stack.account["email"], stack.account["password"], stack.account["totp_secret"])
    assert any(name.startswith("__Host-") for name in client.cookies)
    logins = _events(stack.database_url, "auth.login")
    assert logins[-1].ip == "127.0.0.2"


def test_a_session_works_on_either_app_server(stack):
    client = Client(stack)
    client.sign_in(stack.account["email"], stack.account["password"], stack.account["totp_secret"])
    before = [_dashboard_count(port) for port in stack.app_ports]
    for _ in range(12):
        status, headers, _ = client.get("/supervise/")
        assert status == 200, (status, headers.get("location"))
    after = [_dashboard_count(port) for port in stack.app_ports]
    assert all(a > b for a, b in zip(after, before)), (before, after)  # both servers answered it


def _dashboard_count(port: int) -> float:
    status, _, body = direct(port, "/metrics")
    assert status == 200
    found = re.search(rb'tts_http_requests_total\{endpoint="supervision.dashboard",method="GET",status="200"\} (\S+)',
                      body)
    return float(found.group(1)) if found else 0.0


def test_twilio_webhooks_signed_for_the_public_address_are_accepted_through_nginx(stack):
    from twilio.request_validator import RequestValidator

    from tts import create_app
    from tts.telephony.client import webhook_auth_token

    production = create_app("production", SQLALCHEMY_DATABASE_URI=stack.database_url,
                            SECRET_KEY=stack.env()["SECRET_KEY"], TTS_SIMULATED_TWILIO=True)
    with production.app_context():
        key = webhook_auth_token()  # what the app servers check against: derived from their SECRET_KEY
    path = "/twilio/sms/status"
    form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    signature = RequestValidator(key).compute_signature(stack.public_url + path, form)
    client = Client(stack)
    status, _, _ = client.post(path, form, headers={"X-Twilio-Signature": signature})
    assert status < 300, status
    forged = RequestValidator(key).compute_signature("http://127.0.0.1:8001" + path, form)  # the internal URL
    assert client.post(path, form, headers={"X-Twilio-Signature": forged})[0] == 403
