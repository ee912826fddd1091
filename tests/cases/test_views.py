"""Logging a case and adding contacts through the web forms."""
import re
from datetime import timedelta

from sqlalchemy import func, select

from tts.cases.models import Case
from tts.clock import today
from tts.extensions import db

D = timedelta(days=1)


def date_fields(name, value):
    return {f"{name}-day": str(value.day), f"{name}-month": str(value.month), f"{name}-year": str(value.year)}


def case_form(**overrides):
    data = {"first_name": "Hollis", "last_name": "Rookwood", "phone": "07700 900444", "email": "",
            "address": "8 Nowhere Street, Sheffield", "postcode": "s2 4su",
            **date_fields("date_of_birth", today().replace(year=1990, month=6, day=1)),
            **date_fields("test_date", today() - D), **date_fields("symptom_onset_date", today() - 2 * D)}
    data.update(overrides)
    return data


def test_log_a_case_then_add_a_household_contact(app, tracer_client):
    response = tracer_client.post("/cases/new", data=case_form())
    assert response.status_code == 302
    case_url = response.headers["Location"]
    page = tracer_client.get(case_url).get_data(as_text=True)
    isolation_end = today() + 8 * D
    assert f"{isolation_end:%-d %B %Y}" in page and "Hollis Rookwood" in page and "07700 900444" in page
    contact = tracer_client.post(case_url + "/contacts/new", data={
        "relationship": "household", "first_name": "Jory", "last_name": "Rookwood",
        **date_fields("last_exposure_date", today())}, follow_redirects=True)
    html = contact.get_data(as_text=True)
    assert "Jory Rookwood added as a household contact" in html
    assert f"{today() + 14 * D:%-d %B %Y}" in html and "Household" in html


def test_invalid_case_form_rerenders_with_messages_and_saves_nothing(app, tracer_client):
    response = tracer_client.post("/cases/new", data=case_form(
        phone="0114 496", postcode="nope", first_name="", **{"test_date-day": "32"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert 'href="#phone"' in html and 'href="#postcode"' in html and 'href="#first_name"' in html
    assert "Test date must be a real date" in html
    assert 'value="0114 496"' in html  # what they typed is kept
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_contact_outside_infectious_window_is_explained(tracer_client):
    case_url = tracer_client.post("/cases/new", data=case_form()).headers["Location"]
    response = tracer_client.post(case_url + "/contacts/new", data={
        "relationship": "close", "first_name": "Kit", "last_name": "Quillon",
        **date_fields("last_exposure_date", today() - 10 * D)})
    assert response.status_code == 400
    assert "the case was not infectious until 2 days before symptoms started" in response.get_data(as_text=True)


def test_reporting_role_cannot_log_cases(client, make_user):
    from tests.conftest import sign_in

    sign_in(client, make_user("reporting"))
    assert client.get("/cases/new").status_code == 403
    assert client.post("/cases/new", data=case_form()).status_code == 403


def test_a_tracer_closes_a_case_with_a_reason_and_only_a_supervisor_reopens_it(app, tracer_client, make_user):
    from tests.conftest import sign_in

    case_url = tracer_client.post("/cases/new", data=case_form(first_name="Clove")).headers["Location"]
    page = tracer_client.get(case_url + "/close")
    assert page.status_code == 200 and "Why is it being closed?" in page.get_data(as_text=True)
    refused = tracer_client.post(case_url + "/close", data={"reason": "other", "notes": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "govuk-error-summary" in html and 'href="#notes"' in html
    assert "Say why it is being closed" in html
    closed = tracer_client.post(case_url + "/close", data={"reason": "duplicate"}, follow_redirects=True)
    html = closed.get_data(as_text=True)
    assert "closed: duplicate record" in html and 'data-testid="case-status">Closed' in html
    assert "Reopen" not in html  # a tracer may not
    assert tracer_client.post(case_url + "/reopen").status_code == 403
    supervisor = app.test_client()
    sign_in(supervisor, make_user("supervisor"))
    reopened = supervisor.post(case_url + "/reopen", follow_redirects=True).get_data(as_text=True)
    assert "Reopened: now not yet reached" in reopened and 'data-testid="case-status">Not yet reached' in reopened


def test_a_tracer_logs_a_contact_as_a_positive_case(app, tracer_client):
    from tts.cases.models import Contact

    case_url = tracer_client.post("/cases/new", data=case_form(first_name="Ottilie")).headers["Location"]
    tracer_client.post(case_url + "/contacts/new", data={
        "relationship": "close", "first_name": "Bram", "last_name": "Quenby", "phone": "07700 900471",
        **date_fields("last_exposure_date", today())})
    with app.app_context():
        contact_id = db.session.scalar(select(Contact.id).order_by(Contact.id.desc()))
    page = tracer_client.get(case_url).get_data(as_text=True)
    assert f"/cases/contacts/{contact_id}/convert" in page
    form = tracer_client.get(f"/cases/contacts/{contact_id}/convert").get_data(as_text=True)
    assert "Details a case needs" in form and "Date of birth" in form
    refused = tracer_client.post(f"/cases/contacts/{contact_id}/convert", data=date_fields("test_date", today()))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'href="#date_of_birth' in html and "Enter the date of birth" in html
    done = tracer_client.post(f"/cases/contacts/{contact_id}/convert", data={
        **date_fields("test_date", today()), **date_fields("date_of_birth", today().replace(year=1970)),
        "address": "9 Somewhere Lane", "postcode": "s3 7hq"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "Bram Quenby, a contact of case" in html and "Caught it from" in html
    assert "Became a case" in tracer_client.get(case_url).get_data(as_text=True)


def test_logging_the_same_person_again_shows_their_case_and_asks_if_it_is_a_new_illness(app, tracer_client):
    first = tracer_client.post("/cases/new", data=case_form(first_name="Perrin"))
    case_url = first.headers["Location"]
    again = tracer_client.post("/cases/new", data=case_form(first_name="Perrin", address="8 Nowhere Street"))
    html = again.get_data(as_text=True)
    assert again.status_code == 400 and 'data-testid="existing-case"' in html and case_url in html
    assert 'href="#new_episode-0"' in html and "say whether this is the same illness" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1
    same = tracer_client.post("/cases/new", data=case_form(first_name="Perrin", new_episode="no",
                                                            existing_case_id=case_url.rsplit("/", 1)[-1]))
    assert same.status_code == 302 and same.headers["Location"] == case_url
    new = tracer_client.post("/cases/new", data=case_form(first_name="Perrin", new_episode="yes"))
    assert new.status_code == 302 and new.headers["Location"] != case_url
    with app.app_context():
        people = {c.person_id for c in db.session.scalars(select(Case))}
        assert db.session.scalar(select(func.count()).select_from(Case)) == 2 and len(people) == 1


def test_a_tracer_corrects_the_onset_date_from_the_call_screen_and_returns_to_the_call(app, client, make_user,
                                                                                      daytime):
    from tests.conftest import sign_in
    from tts.callqueue.models import WorkItem

    user = make_user("tracer")
    sign_in(client, user)
    case_url = client.post("/cases/new", data=case_form(first_name="Saoirse")).headers["Location"]
    case_id = int(case_url.rsplit("/", 1)[-1])
    with app.app_context():
        item_id = db.session.scalar(select(WorkItem.id).where(WorkItem.case_id == case_id))
    client.post(f"/queue/items/{item_id}/claim")
    call = client.get(f"/queue/items/{item_id}").get_data(as_text=True)
    assert f"/cases/{case_id}/correct?return_to={item_id}" in call
    refused = client.post(f"/cases/{case_id}/correct?return_to={item_id}",
                          data={**date_fields("test_date", today() - D), "reason": ""})
    summary = refused.get_data(as_text=True).split("govuk-error-summary__list")[1][:800]
    assert refused.status_code == 400 and 'href="#reason"' in summary, summary
    done = client.post(f"/cases/{case_id}/correct?return_to={item_id}", data={
        **date_fields("test_date", today() - D), **date_fields("symptom_onset_date", today() - 4 * D),
        "reason": "Symptoms began earlier"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/queue/items/{item_id}")
    back = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Corrected: onset date." in back and 'name="claim_token"' in back  # still their call
    person = client.get(f"/people/{_person_of(app, case_id)}").get_data(as_text=True)
    assert "Onset date corrected by" in person and "Reason: Symptoms began earlier" in person


def _person_of(app, case_id):
    with app.app_context():
        return db.session.get(Case, case_id).person_id


def test_the_line_list_saves_nothing_until_every_row_is_right(app, tracer_client, daytime):
    case_url = tracer_client.post("/cases/new", data=case_form()).headers["Location"]
    case_id = int(case_url.rstrip("/").rsplit("/", 1)[-1])
    page = tracer_client.get(f"/cases/{case_id}/contacts/list").get_data(as_text=True)
    assert page.count("<legend class=\"govuk-fieldset__legend govuk-fieldset__legend--m\">Contact") == 5
    rows = {
        "c0-first_name": "Jory", "c0-last_name": "Rookwood", "c0-relationship": "household",
        **date_fields("c0-last_exposure_date", today()),
        "c1-first_name": "Perrin", "c1-last_name": "Ashdown", "c1-relationship": "close", "c1-phone": "07700 900777",
        **date_fields("c1-last_exposure_date", today() - 30 * D),  # before the case was infectious
        "c3-first_name": "", "c3-last_name": "Vell", "c3-relationship": "", "c3-phone": "0114 496",
        **{"c3-last_exposure_date-day": "31", "c3-last_exposure_date-month": "2", "c3-last_exposure_date-year": "2026"},
    }
    bad = tracer_client.post(f"/cases/{case_id}/contacts/list", data={"rows": "5", **rows})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    links = [h.split('"')[0] for h in html.split('<a href="#')[1:]]
    summary = [link for link in links if link.startswith("c")]
    assert summary[:5] == ["c1-last_exposure_date-day", "c3-first_name", "c3-relationship",
                           "c3-last_exposure_date-day", "c3-phone"]
    assert "Contact 2: date of last contact must be on or after" in html
    assert 'value="Perrin"' in html  # what was typed stays
    with app.app_context():
        from tts.cases.models import Contact

        assert db.session.scalar(select(func.count()).select_from(Contact)) == 0  # not even the right row
    rows.update({**date_fields("c1-last_exposure_date", today()), "c3-first_name": "Ilsa", "c3-relationship": "close",
                 "c3-phone": "0114 496 0555", **date_fields("c3-last_exposure_date", today() - D)})
    more = tracer_client.post(f"/cases/{case_id}/contacts/list", data={"rows": "5", "more": "1", **rows})
    assert more.get_data(as_text=True).count("legend--m\">Contact") == 10 and 'value="Ilsa"' in more.get_data(as_text=True)
    good = tracer_client.post(f"/cases/{case_id}/contacts/list", data={"rows": "10", **rows}, follow_redirects=True)
    text = good.get_data(as_text=True)
    assert "3 contacts added: Jory Rookwood, Perrin Ashdown, Ilsa Vell" in text
    with app.app_context():
        from tts.cases.models import Contact

        jory = db.session.scalars(select(Contact).where(Contact.relationship_ == "household")).one()
        assert jory.person.address == "8 Nowhere Street, Sheffield" and jory.person.postcode == "S2 4SU"


def test_the_contact_forms_error_summary_follows_the_page(tracer_client):
    """The page asks how they know the case before who they are: the summary's links come in that order."""
    case_url = tracer_client.post("/cases/new", data=case_form()).headers["Location"]
    html = tracer_client.post(case_url + "/contacts/new", data={}).get_data(as_text=True)
    summary = html[html.index("govuk-error-summary__list"):html.index("</ul>", html.index("govuk-error-summary__list"))]
    links = re.findall(r'href="#([a-z_\-0-9]+)"', summary)
    assert links[:2] == ["relationship-0", "last_exposure_date-day"] and "first_name" in links[2:]
