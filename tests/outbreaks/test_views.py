"""The web pages: the register (duplicates refused with the existing one linked), linking a case from its page,
the outbreak opening by itself on the dashboard, recording actions and changing its status."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import sign_in
from tests.outbreaks.conftest import new_case, new_setting
from tts.audit.models import AuditEvent
from tts.clock import today
from tts.extensions import db
from tts.outbreaks.models import Outbreak, Setting
from tts.outbreaks.services import link, live_outbreak

FORM = {"name": "Thimble Lane Works", "kind": "workplace", "address": "4 Thimble Lane, Sheffield",
        "postcode": "s2 4lw", "contact_name": "Gale Rookwood", "contact_phone": "0114 496 0456",
        "contact_email": "gale@thimble.example", "size": "120", "notes": ""}


@pytest.fixture
def supervisor_client(app, make_user):
    client = app.test_client()
    user = make_user("supervisor")
    sign_in(client, user)
    client.user = user
    return client


def day_fields(name, value):
    return {f"{name}-day": str(value.day), f"{name}-month": str(value.month), f"{name}-year": str(value.year)}


def test_add_a_setting_then_the_same_again_is_refused_with_a_link_to_it(app, tracer_client):
    page = tracer_client.get("/settings/new")
    assert page.status_code == 200
    made = tracer_client.post("/settings/new", data=FORM)
    assert made.status_code == 302
    with app.app_context():
        setting = db.session.scalar(select(Setting).where(Setting.name == "Thimble Lane Works"))
        assert setting.postcode == "S2 4LW" and setting.size == 120 and setting.contact_phone == "+441144960456"
    again = tracer_client.post("/settings/new", data=FORM | {"name": "THIMBLE LANE  works"})
    html = again.get_data(as_text=True)
    assert again.status_code == 400 and "govuk-error-summary" in html and "already in the register" in html
    assert f'/settings/{setting.id}"' in html
    bad = tracer_client.post("/settings/new", data=FORM | {"name": "", "kind": "", "postcode": "x", "size": "lots"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for message in ("Enter the setting", "Choose what kind", "Enter a real postcode", "as a whole number"):
        assert message in html
    found = tracer_client.get("/settings/?q=thimble").get_data(as_text=True)
    assert "Thimble Lane Works" in found
    assert tracer_client.get(f"/settings/{setting.id}/edit").status_code == 403  # supervisors change settings


def test_link_a_case_from_its_page_and_the_second_care_home_case_opens_an_outbreak(app, ctx, tracer_client,
                                                                                    supervisor_client):
    with ctx():
        home = new_setting(1)
        first, second = new_case(1, days_ago=2), new_case(2, days_ago=0)
        link(None, home, case=first)
        home_id, case_id = home.id, second.id
        from tts.callqueue.models import WorkItem

        item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == second.id))
        item.assignee_id = tracer_client.user["id"]  # on the tracer's work: the record rule lets them
    page = tracer_client.get(f"/cases/{case_id}/settings?q=ferncliffe")
    assert page.status_code == 200 and "Ferncliffe House 1" in page.get_data(as_text=True)
    refused = tracer_client.post(f"/cases/{case_id}/settings", data={"setting_id": ""})
    assert refused.status_code == 400 and "Choose a setting" in refused.get_data(as_text=True)
    future = tracer_client.post(f"/cases/{case_id}/settings",
                                data={"setting_id": str(home_id), **day_fields("last_attended", today() + timedelta(days=3))})
    assert future.status_code == 400 and "cannot be in the future" in future.get_data(as_text=True)
    done = tracer_client.post(f"/cases/{case_id}/settings",
                              data={"setting_id": str(home_id), **day_fields("last_attended", today())})
    assert done.status_code == 302
    shown = tracer_client.get(done.location).get_data(as_text=True)
    assert "Ferncliffe House 1" in shown and "Part of outbreak" in shown and "The setting has an outbreak" in shown

    dashboard = supervisor_client.get("/supervise/").get_data(as_text=True)
    assert 'data-testid="outbreaks-banner"' in dashboard and "Ferncliffe House 1" in dashboard
    assert "Band 1" in dashboard and "Call the setting" in dashboard
    with app.app_context():
        outbreak_id = live_outbreak(home_id).id
    assert tracer_client.get(f"/outbreaks/{outbreak_id}").status_code == 403


def test_the_outbreak_page_records_actions_and_changes_status(app, ctx, supervisor_client):
    with ctx():
        home = new_setting(2)
        index = new_case(3, days_ago=4, onset_days_ago=5)
        link(None, home, case=index)
        link(None, home, case=new_case(4, days_ago=1))
        outbreak_id = live_outbreak(home.id).id
    page = supervisor_client.get(f"/outbreaks/{outbreak_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="epicurve-title"' in html and 'data-testid="epicurve-table"' in html
    assert 'data-testid="no-chain"' in html and "Call the setting" in html
    bad = supervisor_client.post(f"/outbreaks/{outbreak_id}/actions", data={"kind": "", "todo": "y"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "govuk-error-summary" in html and "Enter when it is due" in html
    ok = supervisor_client.post(f"/outbreaks/{outbreak_id}/actions",
                                data={"kind": "risk_assessment", "notes": "Two residents, one carer unwell"})
    assert ok.status_code == 302
    todo = supervisor_client.post(f"/outbreaks/{outbreak_id}/actions",
                                  data={"kind": "testing_arranged", "notes": "Whole-home testing", "todo": "y",
                                        **day_fields("due_date", today() + timedelta(days=2))})
    assert todo.status_code == 302
    html = supervisor_client.get(f"/outbreaks/{outbreak_id}").get_data(as_text=True)
    assert "Two residents, one carer unwell" in html and "To do, due" in html
    no_reason = supervisor_client.post(f"/outbreaks/{outbreak_id}/status", data={"status": "monitoring"})
    assert no_reason.status_code == 400 and "Say why" in no_reason.get_data(as_text=True)
    moved = supervisor_client.post(f"/outbreaks/{outbreak_id}/status",
                                   data={"status": "monitoring", "reason": "Measures in place"})
    assert moved.status_code == 302
    with app.app_context():
        outbreak = db.session.get(Outbreak, outbreak_id)
        assert outbreak.status == "monitoring"
        assert [a.kind for a in outbreak.actions][:1] == ["status_changed"]
        viewed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "outbreak.view",
                                                             AuditEvent.record_id == outbreak_id)).all()
        assert viewed and len(viewed[0].details["case_ids"]) == 2
    listing = supervisor_client.get("/outbreaks/?status=monitoring").get_data(as_text=True)
    assert "Ferncliffe House 2" in listing
    assert 'data-testid="outbreak-work-list"' in listing and "Testing arranged" in listing and "Band 1" in listing


def test_a_supervisor_opens_one_by_hand_and_a_second_is_refused(app, ctx, supervisor_client):
    with ctx():
        school = new_setting(3, kind="school", name="Pretend Primary")
        setting_id = school.id
    assert supervisor_client.post(f"/settings/{setting_id}/outbreaks/new", data={"reason": ""}).status_code == 400
    opened = supervisor_client.post(f"/settings/{setting_id}/outbreaks/new",
                                    data={"reason": "The head reports a class with symptoms"})
    assert opened.status_code == 302 and "/outbreaks/" in opened.location
    again = supervisor_client.post(f"/settings/{setting_id}/outbreaks/new", data={"reason": "Again"})
    assert again.status_code == 302 and again.location == opened.location
    page = supervisor_client.get(f"/settings/{setting_id}").get_data(as_text=True)
    assert "Open an outbreak" not in page and "Pretend Primary" in page


def test_a_tracer_links_a_contact_from_the_person_page(app, ctx, tracer_client):
    from tests.factories import person_data
    from tts.cases.services import add_contact

    with ctx():
        gym = new_setting(4, kind="other", name="Grindstone Gym")
        case = new_case(9)
        case.created_by_id = tracer_client.user["id"]
        contact = add_contact(None, case, person_data(70, last_name="Gymgoer", phone="07700 900670"),
                              relationship="close", last_exposure_date=today())
        contact_id, person_id, gym_id = contact.id, contact.person_id, gym.id
    person = tracer_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert f"/contacts/{contact_id}/settings" in person
    done = tracer_client.post(f"/contacts/{contact_id}/settings", data={"setting_id": str(gym_id)})
    assert done.status_code == 302 and done.location.endswith(f"/people/{person_id}#settings")
    assert "Grindstone Gym" in tracer_client.get(f"/people/{person_id}").get_data(as_text=True)
