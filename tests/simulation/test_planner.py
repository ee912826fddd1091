"""The capacity planner page: checked inputs, a background run through the worker, the figures shown."""
from sqlalchemy import select

from tts.extensions import db
from tts.simulation.models import SimulationRun
from tts.simulation.services import run_pending_simulations
from tts.worker import run_once


def test_the_planner_refuses_bad_inputs_naming_each_field(client, make_user):
    from tests.conftest import sign_in

    sign_in(client, make_user("reporting"))
    response = client.post("/planner/", data={"cases_per_day": "lots", "contacts_per_case": "-1", "tracers": "0",
                                              "days": "9", "seed": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "<title>Error: Capacity planner" in html
    for field in ("cases_per_day", "contacts_per_case", "tracers", "days"):
        assert f'href="#{field}"' in html and f'id="{field}-error"' in html


def test_a_run_goes_through_the_worker_and_shows_its_figures(app, client, make_user):
    from tests.conftest import sign_in

    sign_in(client, make_user("supervisor"))
    response = client.post("/planner/", data={"cases_per_day": "6", "contacts_per_case": "2", "tracers": "1",
                                              "days": "1", "seed": "4"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting for the worker to start it" in page and 'hx-get="/planner/' in page
    with app.app_context():
        run = db.session.scalars(select(SimulationRun)).one()
        assert run.inputs["levels"] == [1, 2] and run.status == "pending"
        assert run_once()["simulations"] == 1  # the worker's own pass runs it
        db.session.refresh(run)
        assert run.status == "done" and run.progress == 100
        assert [s["tracers"] for s in run.results["staffing"]] == [1, 2]
        run_id = run.id
        assert run_pending_simulations() == 0  # (a job: it ends its transaction, and `run` with it)
    page = client.get(f"/planner/{run_id}").get_data(as_text=True)
    assert "Reach over time" in page and page.count("<svg") >= 2 and "National service, cases: 78%" in page
    assert 'data-testid="staffing"' in page
    assert 'data-testid="recommendation"' in page and "household contacts within 24 hours" in page
    progress = client.get(f"/planner/{run_id}/progress")
    assert progress.headers.get("HX-Refresh") == "true"


def test_the_planner_recommends_a_number_of_tracers_in_plain_english():
    from tts.simulation.services import recommendation

    staffing = [{"tracers": 5, "cases_within_24h": 0.6, "household_contacts_within_24h": 0.7},
                {"tracers": 10, "cases_within_24h": 0.8, "household_contacts_within_24h": 0.88},
                {"tracers": 14, "cases_within_24h": 0.85, "household_contacts_within_24h": 0.91}]
    assert recommendation(staffing, 10) == ("With 14 tracers you would reach 90% of household contacts within 24 "
                                            "hours (and 85% of cases). That is 4 more than the 10 planned.")
    assert recommendation(staffing, 14).endswith("The 14 planned are enough.")
    short = recommendation(staffing[:2], 10)
    assert short.startswith("None of the staffing levels tried reaches 90%") and "88%, with 10 tracers" in short
    assert "no household contacts" in recommendation([], 3)


def test_the_planner_takes_self_service_shares_and_checks_them(app, client, make_user):
    from tests.conftest import sign_in
    from tts.simulation.services import scenario_for

    sign_in(client, make_user("reporting"))
    bad = client.post("/planner/", data={"cases_per_day": "6", "contacts_per_case": "2", "tracers": "1", "days": "1",
                                         "self_service_uptake": "150", "text_confirm": "x", "hold_hours": "25",
                                         "seed": "1"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for field in ("self_service_uptake", "text_confirm", "hold_hours"):
        assert f'href="#{field}"' in html
    ok = client.post("/planner/", data={"cases_per_day": "6", "contacts_per_case": "2", "tracers": "1", "days": "1",
                                        "self_service_uptake": "60", "text_confirm": "30", "hold_hours": "2",
                                        "seed": "1"})
    assert ok.status_code == 302
    with app.app_context():
        run = db.session.scalars(select(SimulationRun)).one()
        scenario = scenario_for(run.inputs, 1)
        assert scenario.self_service and scenario.hold_hours == 2
        assert (scenario.params.self_service_uptake, scenario.params.text_confirm_share) == (0.6, 0.3)
        assert not scenario_for({**run.inputs, "self_service_uptake": 0, "text_confirm": 0}, 1).self_service
