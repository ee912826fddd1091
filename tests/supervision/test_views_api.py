"""Supervisor pages and the reassign API."""
import pytest
from sqlalchemy import select

from tests.conftest import sign_in
from tests.factories import person_data
from tts.callqueue.models import WorkItem
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db


@pytest.fixture
def items(ctx, daytime):
    with ctx():
        ids = []
        for n in range(3):
            case = create_case(None, person_data(n, address=f"{n} Road", postcode=f"S{n + 1} 2HH"),
                               test_date=today(), symptom_onset_date=None)
            db.session.flush()
            ids.append(db.session.scalar(select(WorkItem.id).where(WorkItem.case_id == case.id)))
        return ids


def test_dashboard_and_panel(client, make_user, items):
    sign_in(client, make_user("supervisor"))
    page = client.get("/supervise/").get_data(as_text=True)
    assert "Waiting to be called" in page and 'hx-get="/supervise/panel"' in page and "htmx.min.js" in page
    panel = client.get("/supervise/panel").get_data(as_text=True)
    assert "<html" not in panel and "Tracers today" in panel
    assert 'href="/supervise/queue?band=2&amp;waiting=1">3</a>' in panel


def test_tracers_cannot_supervise(tracer_client):
    assert tracer_client.get("/supervise/").status_code == 403
    assert tracer_client.post("/supervise/reassign", data={}).status_code == 403


def test_bulk_reassign_in_the_app_shows_in_my_work(app, client, make_user, items):
    tracer = make_user("tracer")
    sign_in(client, make_user("supervisor"))
    html = client.get("/supervise/queue?district=S2").get_data(as_text=True)
    assert "1 item in the queue" in html
    response = client.post("/supervise/reassign", data={"work_item_ids": [str(i) for i in items[:2]],
                                                        "assignee_id": str(tracer["id"]), "back": "/supervise/queue"},
                           follow_redirects=True)
    assert "2 items moved to" in response.get_data(as_text=True)
    client.post("/logout")
    sign_in(client, tracer)
    my_work = client.get("/queue/").get_data(as_text=True)
    assert "gave you the call to" in my_work and "Assigned to you" in my_work


def test_shift_toggle(app, tracer_client):
    assert "Start my shift" in tracer_client.get("/queue/").get_data(as_text=True)
    page = tracer_client.post("/queue/shift", data={"on": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "You are on shift" in page and "Go off shift" in page


def test_reassign_api(client, api_token, items):
    supervisor, _ = api_token("supervisor")
    tracer_headers, tracer = api_token("tracer")
    ok = client.post("/api/v1/work-items/reassign", headers=supervisor,
                     json={"work_item_ids": items, "assignee_id": tracer["id"]})
    assert ok.status_code == 200 and ok.json["reassigned"] == items and ok.json["skipped"] == []
    back = client.post("/api/v1/work-items/reassign", headers=supervisor, json={"work_item_ids": items[:1],
                                                                                "assignee_id": None})
    assert back.json == {"reassigned": items[:1], "skipped": [], "assignee_id": None}
    bad = client.post("/api/v1/work-items/reassign", headers=supervisor, json={"work_item_ids": "all"})
    assert bad.status_code == 422 and "work_item_ids" in bad.json["errors"]
    nobody = client.post("/api/v1/work-items/reassign", headers=supervisor, json={"work_item_ids": items,
                                                                                  "assignee_id": 999999})
    assert nobody.status_code == 422 and "assignee_id" in nobody.json["errors"]
    assert client.post("/api/v1/work-items/reassign", headers=tracer_headers,
                       json={"work_item_ids": items, "assignee_id": None}).status_code == 403


def test_the_navigation_marks_the_link_of_the_page_you_are_on(client, make_user):
    """The dashboard and the alerts are both supervision pages, under different links: only the right one is
    marked current (a page the navigation does not link to takes its feature's top-level link)."""
    import re

    from tests.conftest import sign_in

    sign_in(client, make_user("supervisor"))

    def current(path: str) -> list[str]:
        html = client.get(path).get_data(as_text=True)
        return re.findall(r'aria-current="true">\s*<strong[^>]*>([^<]+)</strong>', html)

    assert current("/supervise/") == ["Dashboard"]
    assert current("/supervise/alerts") == ["Follow-up"]
    assert current("/supervise/non-responders") == ["Follow-up"]
    assert current("/supervise/queue") == ["Dashboard"]
    assert current("/escalations/") == ["Follow-up"]
