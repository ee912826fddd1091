"""The capacity planner's simulator: deterministic, driven by the production services, sane in its answers."""
import json

import pytest

from tts.simulation import engine
from tts import create_app
from tts.simulation.engine import ScratchDatabaseRefused
from tts.simulation.params import Params, Scenario

SMALL = Params().with_overrides({"tail_days": 1})


def run(scenario: Scenario, **kw) -> dict:
    return engine.run(scenario, make_app=create_app, **kw)


def small(**kw) -> Scenario:
    base = {"cases_per_day": 12, "contacts_per_case": 2.0, "tracers": 2, "days": 1, "seed": 7, "params": SMALL}
    return Scenario(**{**base, **kw})


def test_the_same_seed_gives_the_same_figures_bit_for_bit(fresh_database_url):
    # On the suite's database engine (PostgreSQL in the PostgreSQL pass), then on a scratch SQLite file.
    first = run(small(), database_url=fresh_database_url("sim"))
    second = run(small())
    for key in ("results", "reach_curves_hours", "per_day", "scenario"):
        assert json.dumps(first[key], sort_keys=True) == json.dumps(second[key], sort_keys=True)
    assert first["results"]["cases"]["people"] == 12
    assert first["results"]["calls"] > 12
    other = run(small(seed=8))
    assert other["results"] != first["results"]


def test_it_drives_the_production_queue_rules(monkeypatch):
    """Change a rule in the queue service (retry much sooner) and the simulated day changes with it."""
    before = run(small())["results"]
    from tts.callqueue import outcomes

    monkeypatch.setattr(outcomes, "retry_at", lambda now, attempts: now + outcomes.timedelta(minutes=10))
    after = run(small())["results"]
    assert after["calls"] != before["calls"]


def test_more_tracers_never_reach_fewer_people_on_average():
    def reach(tracers):
        runs = [run(small(tracers=tracers, seed=seed, cases_per_day=40, contacts_per_case=1.0))["results"]
                for seed in (1, 2)]
        return sum(r["cases"]["reached_within_24h"] + r["contacts"]["reached_within_24h"] for r in runs)

    one, five = reach(1), reach(5)
    assert five >= one and five > 0


def test_parameters_are_checked_and_overridable(tmp_path):
    with pytest.raises(ValueError, match="tracers must be from 1"):
        Scenario(tracers=0)
    with pytest.raises(ValueError, match="unknown simulation parameters: answer_rate"):
        Params().with_overrides({"answer_rate": 0.5})
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"presms_multiplier": 2, "answer_by_attempt": [0.9, 0.8]}))
    params = Params.load(path)
    assert params.presms_multiplier == 2.0 and params.answer_by_attempt == (0.9, 0.8)


def test_the_cli_writes_json_and_csv_and_refuses_the_live_database(app, tmp_path, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["simulate", "--cases", "8", "--tracers", "2", "--seed", "3", "--policy", "fifo",
                                 "--no-presms", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "cases.reached_within_24h" in result.output and "tracer_utilisation" in result.output
    written = json.loads((tmp_path / "simulation-fifo-c8-t2-d1-s3-nosms.json").read_text())
    assert written["scenario"]["policy"] == "fifo" and written["scenario"]["presms"] is False
    assert (tmp_path / "simulation-fifo-c8-t2-d1-s3-nosms.csv").read_text().startswith("figure,value")
    live = app.config["SQLALCHEMY_DATABASE_URI"]
    result = runner.invoke(args=["simulate", "--cases", "8", "--database-url", live, "--out", str(tmp_path)])
    assert result.exit_code != 0 and "never runs on the app's own database" in result.output
    with pytest.raises(ScratchDatabaseRefused):
        engine.run(small(), database_url=live, live_database_url=live, make_app=create_app)


def test_self_service_is_played_through_the_apps_own_pages_services():
    """Cases send the online form and contacts confirm by text (the real services, on the scratch database): the
    same people take fewer hours on calls. (Reach at scale, with and without, is in docs/simulation.md: at 30
    cases a day the shares move by a few people either way.)"""
    scenario = {"cases_per_day": 30, "contacts_per_case": 3.0, "tracers": 2, "seed": 3}
    off = run(small(**scenario))["results"]
    on = run(small(**scenario, self_service=True, hold_hours=4))["results"]
    assert off["cases"]["completed_online"] == 0 and off["contacts"]["confirmed_by_text"] == 0
    assert on["cases"]["completed_online"] > 0.2 and on["contacts"]["confirmed_by_text"] > 0.1
    assert on["tracer_hours_on_calls"] < off["tracer_hours_on_calls"]
    with pytest.raises(ValueError, match="the hold must be"):
        Scenario(hold_hours=30)
