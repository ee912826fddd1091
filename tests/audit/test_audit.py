"""Every create, update and view of a person's record is audited; the log is append-only and browsable."""
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from tests.conftest import sign_in
from tests.factories import person_data
from tts.audit.models import AuditEvent
from tts.audit.services import record_event
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db


@pytest.fixture
def case_ids(ctx):
    with ctx():
        case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        return {"case": case.id, "person": case.person_id, "reference": case.reference}


def events(app, **where):
    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        return [(e.action, e.actor_id, e.record_type, e.record_id, e.via, e.ip) for e in db.session.scalars(stmt)]


def test_viewing_a_person_or_case_page_is_audited(app, tracer_client, case_ids):
    uid = tracer_client.user["id"]
    tracer_client.post("/search", data={"reference": case_ids["reference"]})  # least privilege: find them first
    assert tracer_client.get(f"/people/{case_ids['person']}").status_code == 200
    assert tracer_client.get(f"/cases/{case_ids['case']}").status_code == 200
    assert events(app, actor_id=uid, action="person.view") == [("person.view", uid, "person", case_ids["person"], "web", "127.0.0.1")]
    assert events(app, actor_id=uid, action="case.view") == [("case.view", uid, "case", case_ids["case"], "web", "127.0.0.1")]


def test_editing_a_person_is_audited_with_field_names_only(app, tracer_client, case_ids):
    pid = case_ids["person"]
    tracer_client.post("/search", data={"reference": case_ids["reference"]})
    response = tracer_client.post(f"/people/{pid}/edit", data={
        "first_name": "Bram", "last_name": "Kestrel", "phone": "0114 496 0777", "address": "2 Imaginary Road, Sheffield",
        "postcode": "s1 2hh", "is_vulnerable": "y", "reason": "New number"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "person.update")).one()
        assert set(event.details["fields"]) == {"phone", "is_vulnerable"}
        assert "4960777" not in str(event.details)  # no personal values in the log


def test_api_views_are_audited_as_api(app, client, api_token, case_ids):
    headers, user = api_token("supervisor")
    assert client.get(f"/api/v1/cases/{case_ids['case']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/people/{case_ids['person']}", headers=headers).status_code == 200
    assert [e[0] for e in events(app, actor_id=user["id"], via="api")] == ["case.view", "person.view"]


def test_audit_events_cannot_be_changed_or_deleted(app):
    with app.app_context():
        event = record_event(None, "test.event")
        db.session.flush()
        event.action = "tampered"
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()
    with app.app_context():
        record_event(None, "test.event")
        db.session.commit()
        for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
            nested = db.session.begin_nested()
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            nested.rollback()


def test_admin_browses_and_filters_the_audit_log(app, client, make_user, case_ids):
    tracer = make_user("tracer")
    sign_in(client, tracer)
    client.post("/search", data={"reference": case_ids["reference"]})
    client.get(f"/people/{case_ids['person']}")
    client.post("/logout")
    sign_in(client, make_user("admin"))
    page = client.get(f"/admin/audit/?actor_id={tracer['id']}&action=person.view")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Events 1 to 1, newest first" in html and f"person {case_ids['person']}" in html
    assert "Bram" not in html  # staff see record ids, not names, in the log
    none = client.get("/admin/audit/?action=person.view&from=2001-01-01&to=2001-01-02").get_data(as_text=True)
    assert "No events" in none


def test_tracers_cannot_read_the_audit_log(tracer_client):
    assert tracer_client.get("/admin/audit/").status_code == 403
