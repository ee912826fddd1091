"""/healthz, /readyz and /metrics: what they answer, to whom, and that they carry nothing personal."""
import json
import logging
from datetime import timedelta

from sqlalchemy import func, select, text

from tests.conftest import sign_in
from tests.factories import person_data
from tts import create_app
from tts.audit.models import AuditEvent
from tts.cases.services import create_case
from tts.clock import today, utcnow
from tts.extensions import db
from tts.telephony.models import Message

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}  # a documentation address: not loopback


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_healthz_answers_without_the_database_and_readyz_says_why_not(tmp_path):
    """Pointed at a database that does not answer, the process is still healthy (a load balancer must not
    restart it for an outage) but not ready; an empty database (no schema) is not ready either."""
    for url in ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
                f"sqlite:///{tmp_path / 'empty.db'}"):
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        client = app.test_client()
        health = client.get("/healthz")
        assert health.status_code == 200 and health.get_json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["status"] == "not ready"
        assert "flask db upgrade" in ready.get_json()["reason"]


def test_readyz_is_ready_at_the_migration_head_and_not_behind_it(app, client):
    assert client.get("/readyz").get_json() == {"status": "ready"}
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '85754591f7b2'"))
        db.session.commit()  # inside the test's rolled-back transaction
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "85754591f7b2" in answer.get_json()["reason"] and "run flask db upgrade" in answer.get_json()["reason"]


def test_probes_are_anonymous_never_audited_and_not_logged_at_info(app, client, caplog):
    before = _audit_count(app)
    with caplog.at_level(logging.INFO, logger="tts.requests"):
        for _ in range(3):
            assert client.get("/healthz", environ_base=OUTSIDE).status_code == 200
            assert client.get("/readyz", environ_base=OUTSIDE).status_code == 200
    assert _audit_count(app) == before
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def _scrape(client, **kwargs) -> dict[str, float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain")
    samples = {}
    for line in response.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_metrics_only_for_the_token_or_an_allowed_address(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TTS_METRICS_TOKEN", "s3cret-metrics-token-for-tests")
    assert client.get("/metrics").status_code == 200  # loopback, the default allow list
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 403
    assert client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=OUTSIDE,
                      headers={"Authorization": "Bearer s3cret-metrics-token-for-tests"}).status_code == 200
    import ipaddress

    monkeypatch.setitem(app.config, "TTS_METRICS_NETWORKS", [ipaddress.ip_network("203.0.113.0/24")])
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 200
    assert client.get("/metrics").status_code == 403  # loopback is no longer on the list
    monkeypatch.setitem(app.config, "TTS_METRICS_TOKEN", None)
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403  # no token set: none works


def test_metrics_count_requests_by_route_and_status_and_sign_in_failures(client, make_user):
    before = _scrape(client)
    client.get("/login")
    client.get("/login")
    client.get("/cases/999999")  # anonymous: sent to sign in
    user = make_user("tracer")
    client.post("/login", data={"email": user["email"], "password": "not the password"})
    after = _scrape(client)

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew('tts_http_requests_total{endpoint="auth.login",method="GET",status="200"}') == 2
    assert grew('tts_http_request_duration_seconds_count{endpoint="auth.login",method="GET",status="200"}') == 2
    assert grew('tts_http_request_duration_seconds_bucket{endpoint="auth.login",le="+Inf",method="GET",status="200"}') == 2
    assert grew('tts_http_requests_total{endpoint="auth.login",method="POST",status="400"}') == 1
    assert grew('tts_signin_failures_total{stage="password"}') == 1


def test_metrics_read_the_queue_the_outbox_and_the_workers_from_the_database(app, client, daytime):
    with app.app_context():
        for n in range(3):
            create_case(None, person_data(n, address=f"{n} Metric Row"), test_date=today(), symptom_onset_date=None)
        stuck = Message(direction="outbound", channel="sms", to_number="+447700900123", body="x", status="queued",
                        created_at=utcnow() - timedelta(minutes=30), next_attempt_at=utcnow() - timedelta(minutes=20))
        later = Message(direction="outbound", channel="sms", to_number="+447700900124", body="x", status="queued",
                        created_at=utcnow(), next_attempt_at=utcnow() + timedelta(days=2))  # a check-in, not due
        failed = Message(direction="outbound", channel="sms", to_number="+447700900125", body="x", status="failed",
                         created_at=utcnow(), status_updated_at=utcnow())
        with_twilio = Message(direction="outbound", channel="sms", to_number="+447700900126", body="x",
                              status="sending", twilio_sid="SM" + "7" * 32, created_at=utcnow() - timedelta(hours=5),
                              next_attempt_at=utcnow() - timedelta(hours=5))  # Twilio's now: not pending here
        db.session.add_all([stuck, later, failed, with_twilio])
        db.session.commit()
    daytime.shift(timedelta(minutes=90))
    samples = _scrape(client)
    assert samples['tts_queue_waiting{band="2"}'] + samples['tts_queue_waiting{band="1"}'] >= 3
    assert samples["tts_queue_oldest_waiting_seconds"] >= 90 * 60
    assert samples["tts_queue_overdue"] >= 3  # due 90 minutes ago, overdue after 60
    with app.app_context():
        expected = db.session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "outbound", Message.status.in_(("queued", "sending")),
            Message.twilio_sid.is_(None), Message.next_attempt_at <= utcnow()))
    assert samples["tts_outbox_pending"] == expected >= 1
    assert 110 * 60 <= samples["tts_outbox_oldest_pending_seconds"] < 5 * 3600
    assert samples["tts_outbox_failed"] >= 1
    assert samples["tts_database_up"] == 1

    from tts.ops.heartbeats import beat

    with app.app_context():
        beat("pass", utcnow() - timedelta(seconds=40))
        db.session.commit()
    samples = _scrape(client)
    assert 40 <= samples['tts_worker_lane_last_run_seconds{lane="pass"}'] < 60


def test_no_personal_data_in_any_metric(app, client, make_user, daytime):
    with app.app_context():
        create_case(None, person_data(7, first_name="Marigold", last_name="Quillfeather", phone="07700 900777",
                                      address="7 Unlikely Lane", postcode="S7 1AA"),
                    test_date=today(), symptom_onset_date=None)
        db.session.commit()
    user = make_user("supervisor")
    sign_in(client, user)
    client.get("/search?q=Quillfeather")
    client.get("/supervise/queue?district=S7")
    body = client.get("/metrics").get_data(as_text=True)
    for personal in ("Marigold", "Quillfeather", "900777", "Unlikely", "S7 1AA", "S7%201AA", user["email"]):
        assert personal not in body


def test_request_ids_are_kept_from_the_proxy_or_made_and_shown_on_error_pages(client, app, monkeypatch):
    kept = client.get("/healthz", headers={"X-Request-ID": "nginx-3f2a9c1d77"})
    assert kept.headers["X-Request-ID"] == "nginx-3f2a9c1d77"
    made = client.get("/healthz", headers={"X-Request-ID": "<script>"})  # unusable: a new one instead
    assert len(made.headers["X-Request-ID"]) == 32 and made.headers["X-Request-ID"] != "<script>"
    assert client.get("/healthz").headers["X-Request-ID"] != client.get("/healthz").headers["X-Request-ID"]
    api = client.get("/api/v1/cases", headers={"X-Request-ID": "nginx-api-0000001"})
    assert api.status_code == 401 and api.headers["X-Request-ID"] == "nginx-api-0000001"

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "about.accessibility", broken)
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    page = client.get("/accessibility", headers={"X-Request-ID": "nginx-err-424242"})
    assert page.status_code == 500
    assert "quote reference" in page.get_data(as_text=True) and "nginx-err-424242" in page.get_data(as_text=True)


def test_each_request_is_one_json_line_without_personal_data(app, client, make_user, caplog):
    from tts.ops.logs import JsonFormatter, RequestIdFilter

    user = make_user("supervisor")
    sign_in(client, user)
    with caplog.at_level(logging.INFO, logger="tts.requests"):
        client.get("/search?q=Quillfeather", headers={"X-Request-ID": "nginx-log-1234567"})
    record = [r for r in caplog.records if r.name == "tts.requests"][-1]
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "nginx-log-1234567"
    assert entry["route"] == "people.search"
    assert entry["status"] == 200 and entry["user_id"] == user["id"] and entry["method"] == "GET"
    assert entry["duration_ms"] >= 0 and entry["level"] == "info" and entry["time"].endswith("+00:00")
    assert "Quillfeather" not in line and user["email"] not in line and "?q=" not in line


def test_a_form_refused_over_plain_http_says_it_needs_https(app, client, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    with caplog.at_level(logging.WARNING):
        over_http = client.post("/login", data={"email": "someone@tts.example", "password": "x"})
    assert over_http.status_code == 400
    assert "secure connection" in over_http.get_data(as_text=True)
    assert any("plain HTTP" in r.getMessage() for r in caplog.records)
    over_https = client.post("/login", data={"email": "someone@tts.example", "password": "x"},
                             base_url="https://localhost")
    assert over_https.status_code == 400
    assert "secure connection" not in over_https.get_data(as_text=True)
    assert "expired" in over_https.get_data(as_text=True)


def test_static_links_carry_their_contents_version(app, client):
    import hashlib
    from pathlib import Path

    page = client.get("/login").get_data(as_text=True)
    css = (Path(app.static_folder) / "tts.css").read_bytes()
    assert f"/static/tts.css?v={hashlib.sha256(css).hexdigest()[:12]}" in page
    assert client.get(f"/static/tts.css?v={hashlib.sha256(css).hexdigest()[:12]}").status_code == 200


def test_each_job_that_did_something_is_one_json_line(app, caplog, daytime):
    from tts.ops.logs import JsonFormatter
    from tts.worker import run_once

    with app.app_context():
        create_case(None, person_data(3, address="3 Log Lane"), test_date=today(), symptom_onset_date=None)
        db.session.commit()
        with caplog.at_level(logging.INFO, logger="tts.worker"):
            run_once()  # sends the case's introduction text
    [sent] = [r for r in caplog.records if getattr(r, "fields", {}).get("job") == "sent"]
    entry = json.loads(JsonFormatter().format(sent))
    assert entry["event"] == "job" and entry["status"] == "done" and entry["count"] >= 1
    assert entry["duration_ms"] >= 0 and "07700" not in json.dumps(entry)
