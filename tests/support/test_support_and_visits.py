"""Support needs to fulfilment, and escalations to recorded doorstep visits."""
import pytest
from sqlalchemy import select

from tests.conftest import sign_in
from tests.factories import UserFactory, person_data
from tts.callqueue.models import WorkItem
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.errors import ValidationFailed
from tts.escalation.models import Escalation
from tts.escalation.services import assign_visit, close_escalation, record_visit, visit_list
from tts.extensions import db
from tts.support.services import create_support_need, update_support_need
from tts.telephony.models import Message


@pytest.fixture
def env(app, daytime):
    with app.app_context():
        yield


def no_phone_case(n, postcode, **kw):
    return create_case(None, person_data(n, phone=None, address=f"{n} Knock Lane", postcode=postcode, **kw),
                       test_date=today(), symptom_onset_date=None)


def escalation_of(case) -> Escalation:
    return db.session.scalars(select(Escalation).where(Escalation.person_id == case.person_id)).one()


def test_support_need_moves_to_fulfilment_with_an_optional_text(env):
    case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
    with pytest.raises(ValidationFailed) as exc:
        create_support_need(None, case.person, kind="cake", urgency="soon")
    assert set(exc.value.errors) == {"kind", "urgency"}
    need = create_support_need(None, case.person, kind="food", urgency="today", notes="Two children at home")
    with pytest.raises(ValidationFailed, match="Say who it was referred to"):
        update_support_need(None, need, status="referred")
    update_support_need(None, need, status="referred", referred_to="Food bank", notify=True)
    assert need.status == "referred" and need.referred_to == "Food bank"
    texts = db.session.scalars(select(Message).where(Message.trigger == "support_arranged")).all()
    assert len(texts) == 1 and texts[0].body.startswith("Hello Bram, the support we talked about has been arranged")
    update_support_need(None, need, status="fulfilled", notes="Parcel delivered")
    assert need.closed_at is not None and need.notes.endswith("Parcel delivered")
    with pytest.raises(ValidationFailed, match="A fulfilled need cannot become declined"):
        update_support_need(None, need, status="declined")


def test_visits_reached_resolves_no_answer_revisits_others_await_closure(env):
    officer = UserFactory(role="tracer", is_field_officer=True)
    plain = UserFactory(role="tracer")
    a = no_phone_case(1, "S10 2TN")
    b = no_phone_case(2, "S1 2HH")
    c = no_phone_case(3, "S10 1AA")
    for case in (a, b, c):
        assert escalation_of(case).reason == "no_phone"
    with pytest.raises(ValidationFailed, match="field officer"):
        assign_visit(None, escalation_of(a), plain)
    for case in (a, b, c):
        assign_visit(None, escalation_of(case), officer)
    ordered = [e.person.postcode for e in db.session.scalars(visit_list(officer.id))]
    assert ordered == ["S1 2HH", "S10 1AA", "S10 2TN"]  # by district, then postcode

    record_visit(officer, escalation_of(a), outcome="no_answer", notes="Card left")
    assert escalation_of(a).status == "assigned"  # still on the list for another knock
    record_visit(officer, escalation_of(a), outcome="reached")
    assert escalation_of(a).status == "resolved" and escalation_of(a).resolution == "Reached on the doorstep"
    assert len(escalation_of(a).visits) == 2
    with pytest.raises(ValidationFailed, match="already resolved"):
        record_visit(officer, escalation_of(a), outcome="reached")

    record_visit(officer, escalation_of(b), outcome="moved_away")
    assert escalation_of(b).status == "visited"
    with pytest.raises(ValidationFailed, match="Say why"):
        close_escalation(None, escalation_of(b), " ")
    close_escalation(None, escalation_of(b), "Moved to Leeds; passed to their council")
    assert escalation_of(b).status == "resolved"
    with pytest.raises(ValidationFailed, match="what happened at the door"):
        record_visit(officer, escalation_of(c), outcome="dog")


def test_reached_on_the_doorstep_raises_the_household(env):
    officer = UserFactory(role="tracer", is_field_officer=True)
    case = no_phone_case(1, "S2 4SU")
    member = add_contact(None, case, person_data(2, address=None, postcode=None), relationship="household",
                         last_exposure_date=today())
    assign_visit(None, escalation_of(case), officer)
    record_visit(officer, escalation_of(case), outcome="reached")
    item = db.session.scalars(select(WorkItem).where(WorkItem.contact_id == member.id)).one()
    assert item.is_household_raised and item.band == 1


def test_field_officer_pages(app, client, make_user, ctx, daytime):
    officer = make_user("tracer", is_field_officer=True)
    with ctx():
        case = no_phone_case(1, "S10 2TN")
        db.session.flush()
        escalation_id = escalation_of(case).id
    sign_in(client, make_user("supervisor"))
    page = client.get("/escalations/").get_data(as_text=True)
    assert "No phone number" in page
    client.post(f"/escalations/{escalation_id}/assign", data={"officer_id": officer["id"]})
    team = client.get("/escalations/visits")  # the supervisor sees every officer's round
    assert team.status_code == 200 and "1 Knock Lane" in team.get_data(as_text=True)
    assert "Doorstep visits" in team.get_data(as_text=True)
    assert "1 Knock Lane" not in client.get("/escalations/visits?officer=2000000").get_data(as_text=True)
    client.post("/logout")
    sign_in(client, officer)
    visits = client.get("/escalations/visits").get_data(as_text=True)
    assert "1 Knock Lane" in visits and "My visits" in visits
    assert 'href="geo:0,0?q=S10%202TN"' in visits  # on a phone, the postcode opens in its maps (the postcode only)
    done = client.post(f"/escalations/{escalation_id}/visits", data={"outcome": "reached"}, follow_redirects=True)
    assert "recorded: reached on the doorstep" in done.get_data(as_text=True)


def test_not_a_field_officer_has_no_visit_list(tracer_client):
    assert tracer_client.get("/escalations/visits").status_code == 403


def test_support_from_person_page_then_supervisor_refers(app, client, make_user, ctx, daytime):
    with ctx():
        case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        person_id, reference = case.person_id, case.reference
    sign_in(client, make_user("tracer"))
    client.post("/search", data={"reference": reference})
    page = client.post(f"/people/{person_id}/support-needs", data={"kind": "medicine", "urgency": "today"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Support need logged for Bram: medicine or prescriptions" in page
    assert client.get("/support/").status_code == 403
    client.post("/logout")
    sign_in(client, make_user("supervisor"))
    from tts.support.models import SupportNeed

    with app.app_context():
        need_id = db.session.scalar(select(SupportNeed.id))
    done = client.post(f"/support/{need_id}", data={"status": "referred", "referred_to": "Pharmacy delivery"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Medicine or prescriptions for Bram Kestrel: now referred (Pharmacy delivery)" in done


def test_api_visits_and_support(client, api_token, ctx, daytime):
    supervisor, _ = api_token("supervisor")
    tracer, _ = api_token("tracer")
    with ctx():
        case = no_phone_case(1, "S10 2TN")
        db.session.flush()
        escalation_id, person_id = escalation_of(case).id, case.person_id
    listed = client.get("/api/v1/escalations?status=open&district=S10&reason=no_phone", headers=supervisor).json
    assert [e["id"] for e in listed] == [escalation_id]
    assert client.get("/api/v1/escalations?district=S1", headers=supervisor).json == []
    assert client.post(f"/api/v1/escalations/{escalation_id}/visits", headers=tracer,
                       json={"outcome": "reached"}).status_code == 403
    bad = client.post(f"/api/v1/escalations/{escalation_id}/visits", headers=supervisor, json={"outcome": "maybe"})
    assert bad.status_code == 422
    ok = client.post(f"/api/v1/escalations/{escalation_id}/visits", headers=supervisor, json={"outcome": "reached"})
    assert ok.status_code == 201 and ok.json["escalation"]["status"] == "resolved"
    stranger = client.post(f"/api/v1/people/{person_id}/support-needs", headers=tracer,
                           json={"kind": "isolation_payment", "notes": "Self-employed"})
    assert stranger.status_code == 403  # not on the tracer's work: the same rule as the web form
    need = client.post(f"/api/v1/people/{person_id}/support-needs", headers=supervisor,
                       json={"kind": "isolation_payment", "notes": "Self-employed"})
    assert need.status_code == 201 and need.json["status"] == "requested"
    assert client.patch(f"/api/v1/support-needs/{need.json['id']}", headers=tracer,
                        json={"status": "declined"}).status_code == 403
    patched = client.patch(f"/api/v1/support-needs/{need.json['id']}", headers=supervisor,
                           json={"status": "referred", "referred_to": "Isolation payment team"})
    assert patched.status_code == 200 and patched.json["referred_to"] == "Isolation payment team"
    bad = client.patch(f"/api/v1/support-needs/{need.json['id']}", headers=supervisor, json={"status": "lost"})
    assert bad.status_code == 422
