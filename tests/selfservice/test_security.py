"""Personal links open one person's pages and nothing else: what the session they set can reach, what a
link shows before the date of birth, and that a link is one person's, for one purpose, revocable."""
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tests.selfservice.conftest import dob_form, link_texted_to
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.selfservice.links import revoke
from tts.selfservice.models import SelfServiceLink


def test_a_verified_self_service_session_signs_nobody_in(app, client, texted_case):
    token, ids = texted_case
    assert client.post(f"/s/{token}/verify", data=dob_form(ids["dob"])).status_code == 302
    for path in ("/", "/cases/", f"/people/{ids['person_id']}", "/supervise/", "/admin/audit/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.get(f"/api/v1/people/{ids['person_id']}").status_code == 401


def test_one_persons_verification_does_not_open_anothers_link(app, client, ctx, texted_case):
    token, ids = texted_case
    with ctx():
        other = create_case(None, person_data(12), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        other_token = link_texted_to(other.person_id, "introduction")
    client.post(f"/s/{token}/verify", data=dob_form(ids["dob"]))
    # Their own pages are open; the other person's send them to prove who they are first.
    assert client.get(f"/s/{token}/symptoms").status_code == 200
    assert client.get(f"/s/{other_token}/symptoms").headers["Location"].endswith(f"/s/{other_token}/verify")
    # And the first person's date of birth does not open the other link.
    response = client.post(f"/s/{other_token}/verify", data=dob_form(ids["dob"]))
    assert response.status_code == 400


def test_nothing_personal_before_the_date_of_birth(app, client, ctx, texted_case):
    token, ids = texted_case
    with ctx():
        from tts.people.models import Person

        person = db.session.get(Person, ids["person_id"])
        secrets = [person.first_name, person.last_name, person.postcode, person.address.split(",")[0]]
    for path in (f"/s/{token}", f"/s/{token}/verify"):
        page = client.get(path).get_data(as_text=True)
        assert not [s for s in secrets if s in page], path


def test_a_revoked_link_answers_like_an_unknown_one(app, client, ctx, texted_case):
    token, ids = texted_case
    with ctx():
        link = db.session.scalar(select(SelfServiceLink).where(SelfServiceLink.case_id == ids["case_id"]))
        revoke(UserFactory(role="supervisor"), link)
    assert client.get(f"/s/{token}").status_code == 404


def test_staff_revoke_and_resend_a_link_from_the_person_page(app, ctx, texted_case, make_user):
    from tests.conftest import sign_in

    token, ids = texted_case
    supervisor = make_user("supervisor")
    staff = app.test_client()
    sign_in(staff, supervisor)
    page = staff.get(f"/people/{ids['person_id']}").get_data(as_text=True)
    assert "Stop this link working" in page and "Text a new link for case" in page
    with ctx():
        link_id = db.session.scalar(select(SelfServiceLink.id).where(SelfServiceLink.case_id == ids["case_id"]))
    assert staff.post(f"/people/{ids['person_id']}/links/{link_id}/revoke").status_code == 302
    assert app.test_client().get(f"/s/{token}").status_code == 404
    sent = staff.post(f"/people/{ids['person_id']}/links/send", data={"record": f"case-{ids['case_id']}"})
    assert sent.status_code == 302
    with ctx():
        new_token = link_texted_to(ids["person_id"], "introduction")
        assert new_token != token
    assert app.test_client().get(f"/s/{new_token}").status_code == 200
