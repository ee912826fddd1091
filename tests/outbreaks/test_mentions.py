"""Places a case named on the online form: each line waits for a supervisor, who matches it to the register
(the case is linked, and the cluster rule runs) or sets it aside."""
from sqlalchemy import select

from tests.conftest import sign_in
from tests.outbreaks.conftest import new_case, new_setting
from tests.selfservice.conftest import dob_form
from tests.selfservice.test_case_form import answer_everything
from tts.extensions import db
from tts.outbreaks.models import SettingLink, SettingMention
from tts.outbreaks.services import link, live_outbreak


def test_the_online_forms_places_wait_to_be_matched_and_a_match_opens_an_outbreak(app, ctx, client, texted_case,
                                                                                  make_user):
    token, ids = texted_case
    with ctx():
        works = new_setting(1, kind="workplace", name="Tinsley Pallets Ltd", postcode="S9 1AA")
        link(None, works, case=new_case(60))  # a case there already: one more makes a cluster
        works_id = works.id
    client.post(f"/s/{token}/verify", data=dob_form(ids["dob"]))
    answer_everything(client, token)
    client.post(f"/s/{token}/places", data={"places": "Tinsley Pallets Ltd, Attercliffe\n- St Jude's church hall\n\n"})
    assert client.post(f"/s/{token}/check").status_code == 302
    with app.app_context():
        waiting = db.session.scalars(select(SettingMention).where(SettingMention.case_id == ids["case_id"])
                                     .order_by(SettingMention.id)).all()
        assert [m.text for m in waiting] == ["Tinsley Pallets Ltd, Attercliffe", "St Jude's church hall"]
        first, second = waiting[0].id, waiting[1].id

    boss = app.test_client()
    sign_in(boss, make_user("supervisor"))
    dashboard = boss.get("/supervise/").get_data(as_text=True)
    assert 'data-testid="mentions-waiting"' in dashboard and "2 places" in dashboard
    listing = boss.get("/settings/places").get_data(as_text=True)
    assert "St Jude" in listing and "Tinsley Pallets Ltd, Attercliffe" in listing
    page = boss.get(f"/settings/places/{first}").get_data(as_text=True)
    assert "Tinsley Pallets Ltd, S9 1AA" in page  # found from the person's own words
    refused = boss.post(f"/settings/places/{first}", data={})
    assert refused.status_code == 400 and "Choose a setting" in refused.get_data(as_text=True)
    matched = boss.post(f"/settings/places/{first}", data={"setting_id": str(works_id)})
    assert matched.status_code == 302
    assert boss.post(f"/settings/places/{second}/dismiss").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(SettingLink.source).where(SettingLink.case_id == ids["case_id"])) == "self_service"
        assert ids["case_id"] in [m.case_id for m in live_outbreak(works_id).members]
        statuses = db.session.scalars(select(SettingMention.status).where(SettingMention.case_id == ids["case_id"])
                                      .order_by(SettingMention.id)).all()
        assert statuses == ["matched", "dismissed"]
    assert "Nothing to match" in boss.get("/settings/places").get_data(as_text=True)
    tracer = app.test_client()
    sign_in(tracer, make_user("tracer"))
    assert tracer.get("/settings/places").status_code == 403
