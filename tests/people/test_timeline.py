"""The person's timeline shows every kind of event: record, call, text, support, escalation, doorstep visit,
correction, status change (closed, reopened, completed, became a case) and note."""
from datetime import timedelta

from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tts.cases import lifecycle
from tts.cases.corrections import correct_case
from tts.cases.services import add_contact, convert_contact, create_case
from tts.clock import today
from tts.escalation.models import Escalation
from tts.escalation.services import assign_visit, record_visit
from tts.extensions import db
from tts.people.notes import add_note
from tts.people.timeline import person_timeline
from tts.support.services import create_support_need


def test_every_kind_of_event_is_on_the_timeline(app, daytime):
    with app.app_context():
        boss = UserFactory(role="supervisor", name="Priya Ashby")
        officer = UserFactory(role="tracer", is_field_officer=True)
        case = create_case(boss, person_data(3, phone=None), test_date=today() - timedelta(days=1),
                           symptom_onset_date=None)
        escalation = db.session.scalars(select(Escalation).where(Escalation.person_id == case.person_id)).one()
        assign_visit(None, escalation, officer)
        record_visit(officer, escalation, outcome="reached", notes="Spoke at the door")
        create_support_need(boss, case.person, kind="food", urgency="today")
        correct_case(boss, case, reason="Typed the wrong day", test_date=today() - timedelta(days=2))
        add_note(boss, case.person, "Prefers the side door", case=case)
        lifecycle.close(boss, case, reason="refused")
        lifecycle.reopen(boss, case)
        contact = add_contact(None, case, person_data(4, address=None, postcode=None), relationship="close",
                              last_exposure_date=today() - timedelta(days=1))
        convert_contact(boss, contact, test_date=today(), symptom_onset_date=None,
                        person=person_data(4, address="4 Sample Street", postcode="S2 4SU"))
        titles = [e.title for e in person_timeline(case.person)]
        for expected in ("Positive case", "Escalated to the local team", "Doorstep visit: Reached on the doorstep",
                         "Support asked for: Food", "Test date corrected by Priya Ashby",
                         "Note on case", "closed by Priya Ashby: refused to take part", "reopened by Priya Ashby"):
            assert any(expected in t for t in titles), (expected, titles)
        contact_titles = [e.title for e in person_timeline(contact.person)]
        assert any("became a case" in t for t in contact_titles), contact_titles
