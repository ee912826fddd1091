"""Notes on a person or a case: web pages and API, audited without the words, on the timeline."""
from sqlalchemy import select

from tests.factories import person_data
from tts.audit.models import AuditEvent
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.people.models import Note


def _case(app, actor_id=None):
    from tts.auth.models import User

    with app.app_context():
        actor = db.session.get(User, actor_id) if actor_id else None
        case = create_case(actor, person_data(5), test_date=today(), symptom_onset_date=None)
        db.session.commit()
        return case.id, case.person_id


def test_a_tracer_adds_notes_to_a_case_and_a_person_on_the_web(app, tracer_client, daytime):
    case_id, person_id = _case(app, tracer_client.user["id"])
    empty = tracer_client.post(f"/cases/{case_id}/notes/new", data={"text": "  "})
    assert empty.status_code == 400 and 'href="#text"' in empty.get_data(as_text=True)
    saved = tracer_client.post(f"/cases/{case_id}/notes/new", data={"text": "Prefers calls after 4pm"})
    assert saved.status_code == 302 and saved.location.endswith(f"/cases/{case_id}#notes")
    assert "Prefers calls after 4pm" in tracer_client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert tracer_client.post(f"/people/{person_id}/notes/new", data={"text": "Hard of hearing"}).status_code == 302
    timeline = tracer_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Prefers calls after 4pm" in timeline and "Hard of hearing" in timeline and "Note on case TTS-" in timeline
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "note.create")).all()
        assert len(events) == 2 and all("4pm" not in str(e.details) for e in events)


def test_notes_through_the_api_answer_201_422_and_403(app, client, api_token, daytime):
    headers, user = api_token("tracer")
    case_id, person_id = _case(app, user["id"])
    made = client.post(f"/api/v1/cases/{case_id}/notes", headers=headers, json={"text": "Needs an interpreter"})
    assert made.status_code == 201
    assert made.get_json().items() >= {"case_id": case_id, "person_id": person_id, "text": "Needs an interpreter"}.items()
    person_note = client.post(f"/api/v1/people/{person_id}/notes", headers=headers, json={"text": "Lives alone"})
    assert person_note.status_code == 201 and person_note.get_json()["case_id"] is None
    bad = client.post(f"/api/v1/people/{person_id}/notes", headers=headers, json={"text": ""})
    assert bad.status_code == 422 and "text" in bad.get_json()["errors"]
    missing = client.post(f"/api/v1/people/{person_id}/notes", headers=headers, json={})
    assert missing.status_code == 422 and "text" in missing.get_json()["errors"]
    other, _ = api_token("tracer")
    assert client.post(f"/api/v1/cases/{case_id}/notes", headers=other, json={"text": "x"}).status_code == 403
    assert client.post(f"/api/v1/people/{person_id}/notes", headers=other, json={"text": "x"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Note)) == 2
