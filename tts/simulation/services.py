"""The capacity planner page's runs: checked inputs, run by the worker, figures kept for the page."""
import logging

from flask import current_app

from tts.jobs import job, run_pending
from tts.audit.services import record_event
from tts.clock import utcnow
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.simulation.models import SimulationRun
from tts.simulation.params import Params, Scenario

log = logging.getLogger(__name__)
_progress_here: dict[int, int] = {}  # finer progress of runs in this process


def progress_of(run: SimulationRun) -> int:
    return run.progress if run.status in ("done", "failed") else max(run.progress, _progress_here.get(run.id, 0))


LEVELS = (0.5, 0.75, 1.0, 1.25, 1.5)  # staffing levels tried around the number entered, for the chart


def _number(errors: ErrorCollector, raw, field: str, label: str, low: float, high: float, whole: bool = True):
    try:
        value = int(str(raw).strip()) if whole else float(str(raw).strip())
    except (TypeError, ValueError):
        errors.add(field, f"Enter {label} as a {'whole ' if whole else ''}number")
        return None
    if not low <= value <= high:
        errors.add(field, f"Enter {label} from {low:g} to {high:,g}")
        return None
    return value


def create_run(actor, *, cases_per_day, contacts_per_case, tracers, days="1", seed="1", self_service_uptake="0",
               text_confirm="0", hold_hours="0") -> SimulationRun:
    """Queue a planner run for the worker: the scenario at the staffing entered and at levels around it."""
    errors = ErrorCollector()
    cases = _number(errors, cases_per_day, "cases_per_day", "the cases expected each day", 1,
                    current_app.config["TTS_PLANNER_MAX_CASES"])
    contacts = _number(errors, contacts_per_case, "contacts_per_case", "the contacts per case", 0, 20, whole=False)
    staff = _number(errors, tracers, "tracers", "the tracers on shift", 1, 500)
    length = _number(errors, days, "days", "the days to simulate", 1, 3)
    uptake = _number(errors, self_service_uptake or "0", "self_service_uptake",
                     "the share of cases who complete the online form", 0, 100)
    confirm = _number(errors, text_confirm or "0", "text_confirm", "the share of contacts who confirm by text", 0, 100)
    hold = _number(errors, hold_hours or "0", "hold_hours", "the hours a first call waits", 0, 24, whole=False)
    chosen_seed = _number(errors, seed or "1", "seed", "the seed", 0, 2**31 - 1)
    errors.raise_if_any()
    levels = sorted({max(1, round(staff * f)) for f in LEVELS})
    run = SimulationRun(created_by_id=getattr(actor, "id", None), status="pending", progress=0,
                        inputs={"cases_per_day": cases, "contacts_per_case": contacts, "tracers": staff,
                                "days": length, "seed": chosen_seed, "levels": levels,
                                "self_service_uptake": uptake, "text_confirm": confirm, "hold_hours": hold})
    db.session.add(run)
    db.session.flush()
    record_event(actor, "simulation.create", run, {"inputs": run.inputs})
    return run


@job("simulations", lane="slow", when=lambda: not current_app.config.get("TTS_SIMULATION_SCRATCH"))
def run_pending_simulations() -> int:
    """In the worker: take one pending run (SKIP LOCKED) and simulate each staffing level in turn (not in
    a planner's own scratch app)."""
    return run_pending(SimulationRun, _simulate, _failed, status="running")


def _simulate(run_id: int):
    from tts.simulation import engine

    inputs = dict(db.session.get(SimulationRun, run_id).inputs)
    live_url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    levels = inputs["levels"]

    def report(level_index: int):
        def progress(fraction: float) -> None:  # within a level: this process only (the page polls it here)
            _progress_here[run_id] = int(100 * (level_index + fraction) / len(levels))
        return progress

    by_level = {}
    for i, tracers in enumerate(levels):
        scenario = scenario_for(inputs, tracers)
        by_level[tracers] = engine.run(scenario, live_database_url=live_url, progress=report(i))
        db.session.get(SimulationRun, run_id).progress = int(100 * (i + 1) / len(levels))
        yield "a staffing level is done: its progress is seen by every process"
    run = db.session.get(SimulationRun, run_id)
    main = by_level[inputs["tracers"]]
    run.results = {
        "main": {k: main[k] for k in ("results", "reach_curves_hours", "per_day", "scenario", "run")},
        "staffing": [{"tracers": t, "cases_within_24h": f["results"]["cases"]["reached_within_24h"],
                      "contacts_within_24h": f["results"]["contacts"]["reached_within_24h"],
                      "household_contacts_within_24h": f["results"]["household_contacts"]["reached_within_24h"],
                      "utilisation": f["results"]["tracer_utilisation"]}
                     for t, f in sorted(by_level.items())],
        "params": main["params"],
    }
    run.status, run.progress, run.finished_at = "done", 100, utcnow()
    _progress_here.pop(run_id, None)


def scenario_for(inputs: dict, tracers: int) -> Scenario:
    """A planner run's scenario at one staffing level: self-service on when either share is above 0."""
    uptake, confirm = inputs.get("self_service_uptake") or 0, inputs.get("text_confirm") or 0
    params = Params().with_overrides({"self_service_uptake": uptake / 100, "text_confirm_share": confirm / 100})
    return Scenario(cases_per_day=inputs["cases_per_day"], contacts_per_case=inputs["contacts_per_case"],
                    tracers=tracers, days=inputs["days"], seed=inputs["seed"], self_service=bool(uptake or confirm),
                    hold_hours=float(inputs.get("hold_hours") or 0), params=params)


def _failed(run_id: int, error: Exception) -> None:
    """A failed run is reported on its page (the error's kind only), and the worker carries on."""
    log.exception("simulation run %s failed", run_id)
    run = db.session.get(SimulationRun, run_id)
    run.status, run.error, run.finished_at = "failed", type(error).__name__, utcnow()


TARGET_SHARE = 0.9  # the recommendation's aim: household contacts reached within 24 hours


def recommendation(staffing: list[dict], planned: int, target: float = TARGET_SHARE) -> str:
    """The planner's answer in one plain sentence: the fewest tracers (of the levels simulated) that reach
    `target` of household contacts within 24 hours, against the number planned; or, when none does, the
    best reached and why more tracers alone may not close the gap."""
    levels = sorted((s for s in staffing if s.get("household_contacts_within_24h") is not None),
                    key=lambda s: s["tracers"])
    if not levels:
        return "There were no household contacts in this run, so it cannot say how many tracers they need."
    goal = f"{target:.0%} of household contacts within 24 hours"
    enough = next((s for s in levels if s["household_contacts_within_24h"] >= target), None)
    if enough is None:
        best = max(levels, key=lambda s: s["household_contacts_within_24h"])
        return (f"None of the staffing levels tried reaches {goal}: the most is "
                f"{best['household_contacts_within_24h']:.0%}, with {best['tracers']} tracers. Beyond a point more "
                "tracers do not help, because some people never answer a call from an unknown number: texts and "
                "doorstep visits reach them.")
    n = enough["tracers"]
    cases = f" (and {enough['cases_within_24h']:.0%} of cases)" if enough.get("cases_within_24h") is not None else ""
    sentence = f"With {n} tracer{'' if n == 1 else 's'} you would reach {goal}{cases}."
    if planned >= n:
        return sentence + f" The {planned} planned are enough."
    return sentence + f" That is {n - planned} more than the {planned} planned."
