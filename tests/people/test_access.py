"""Least privilege: a tracer sees people on their own work, people they logged, and people they found
by exact search; supervisors see everyone; the API applies the same rule."""
from sqlalchemy import select

from tests.conftest import sign_in
from tests.factories import person_data
from tts.callqueue.models import WorkItem
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db


def make_case(ctx, n=1):
    with ctx():
        case = create_case(None, person_data(n, address=f"{n} Access Rd"), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        item = db.session.scalar(select(WorkItem.id).where(WorkItem.case_id == case.id))
        return {"case": case.id, "person": case.person_id, "reference": case.reference, "item": item}


def test_a_stranger_is_hidden_until_found_by_exact_search(ctx, tracer_client):
    c = make_case(ctx)
    for url in (f"/people/{c['person']}", f"/cases/{c['case']}", f"/queue/items/{c['item']}"):
        assert tracer_client.get(url).status_code == 403, url
    tracer_client.post("/search", data={"reference": c["reference"]})
    for url in (f"/people/{c['person']}", f"/cases/{c['case']}", f"/queue/items/{c['item']}"):
        assert tracer_client.get(url).status_code == 200, url


def test_people_on_my_work_and_people_i_logged(ctx, tracer_client, daytime):
    c = make_case(ctx)
    tracer_client.post("/queue/next")  # claims c: now on their work
    assert tracer_client.get(f"/people/{c['person']}").status_code == 200
    response = tracer_client.post("/cases/new", data={
        "first_name": "Own", "last_name": "Logged", "address": "1 Mine St", "postcode": "S1 2HH",
        "date_of_birth-day": "1", "date_of_birth-month": "2", "date_of_birth-year": "1990",
        "test_date-day": "23", "test_date-month": "11", "test_date-year": "2026"})
    assert tracer_client.get(response.headers["Location"]).status_code == 200


def test_supervisors_see_everyone(ctx, client, make_user):
    c = make_case(ctx)
    sign_in(client, make_user("supervisor"))
    assert client.get(f"/people/{c['person']}").status_code == 200


def test_the_api_applies_the_same_rule(ctx, client, api_token):
    c = make_case(ctx)
    tracer, _ = api_token("tracer")
    assert client.get(f"/api/v1/people/{c['person']}", headers=tracer).status_code == 403
    assert client.get(f"/api/v1/cases/{c['case']}", headers=tracer).status_code == 403
    supervisor, _ = api_token("supervisor")
    assert client.get(f"/api/v1/people/{c['person']}", headers=supervisor).status_code == 200


def test_tracers_never_see_other_staffs_email_or_phone(app, tracer_client, make_user, daytime):
    from tts.auth.models import User

    colleague = make_user("supervisor")
    with app.app_context():
        user = db.session.get(User, colleague["id"])
        user.phone = "+447700900977"
        case = create_case(user, person_data(7), test_date=today(), symptom_onset_date=None)
        db.session.commit()
        case_id = case.id
    tracer_client.post("/queue/shift", data={"on_shift": "1"})
    tracer_client.post("/queue/next")
    for url in ("/", "/queue/", f"/cases/{case_id}", "/cases/", "/account", "/search"):
        html = tracer_client.get(url, follow_redirects=True).get_data(as_text=True)
        assert colleague["email"] not in html and "900977" not in html and "900 977" not in html, url
