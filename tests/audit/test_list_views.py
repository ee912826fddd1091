"""Pages that list people by name write one audit event per view naming the records shown (ids only), as
the person and case pages do: escalations, support needs, the queue list, unmatched replies, a field officer's
visits, the case list and search results."""
from sqlalchemy import select

from tests.conftest import sign_in
from tests.factories import person_data
from tts.audit.models import AuditEvent
from tts.auth.models import User
from tts.callqueue.models import WorkItem
from tts.cases.services import create_case
from tts.clock import today
from tts.escalation.services import assign_visit, open_escalation
from tts.extensions import db
from tts.support.services import create_support_need
from tts.telephony.models import Message


def _events(app, user_id: int) -> list[dict]:
    with app.app_context():
        return [e.details for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.actor_id == user_id, AuditEvent.action == "people.list_view").order_by(AuditEvent.id))]


def test_each_list_page_audits_the_people_it_shows(app, make_user, daytime):
    supervisor, officer = make_user("supervisor"), make_user("tracer", is_field_officer=True)
    with app.app_context():
        actor = db.session.get(User, supervisor["id"])
        case = create_case(actor, person_data(81, first_name="Lena", last_name="Rookwood", phone="07700 900881"),
                           test_date=today(), symptom_onset_date=None)
        db.session.flush()
        item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id))
        escalation = open_escalation(actor, item, "no_phone")
        assign_visit(actor, escalation, db.session.get(User, officer["id"]))
        create_support_need(actor, case.person, kind="food", urgency="today", notes=None)
        db.session.add(Message(direction="inbound", channel="sms", from_number="+447700900881", body="Hi",
                               status="received"))
        db.session.commit()
        person_id, reference = case.person_id, case.reference
    client = app.test_client()
    sign_in(client, supervisor)
    pages = {"escalations": "/escalations/?status=", "support_needs": "/support/?status=",
             "queue": "/supervise/queue", "unmatched_replies": "/messages/unmatched", "cases": "/cases/"}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200 and "Rookwood" in response.get_data(as_text=True), url
        last = _events(app, supervisor["id"])[-1]
        assert last == {"page": name, "person_ids": [person_id]}, (url, last)
    client.post("/search", data={"reference": reference})
    assert _events(app, supervisor["id"])[-1] == {"page": "search", "person_ids": [person_id]}
    field = app.test_client()
    sign_in(field, officer)
    assert "Rookwood" in field.get("/escalations/visits").get_data(as_text=True)
    assert _events(app, officer["id"]) == [{"page": "visits", "person_ids": [person_id]}]
