from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tts.errors import ValidationFailed
from tts.extensions import db
from tts.permissions import require
from tts.reports.kpis import NATIONAL_REFERENCE
from tts.simulation import bp
from tts.simulation.charts import LABELS, line_chart
from tts.simulation.models import SimulationRun
from tts.simulation.services import create_run, progress_of, recommendation
from tts.transaction import undo

GROUPS = ("cases", "household_contacts", "other_contacts")
REFERENCES = {"cases": NATIONAL_REFERENCE["cases"] / 100,
              "household_contacts": NATIONAL_REFERENCE["household_contacts"] / 100}


@bp.route("/planner/", methods=["GET", "POST"])
@require("reports.view")
def planner():
    """Enter the expected load and staffing; the worker simulates it (docs/simulation.md)."""
    errors, values = {}, {"cases_per_day": "1000", "contacts_per_case": "3", "tracers": "12", "days": "1",
                          "self_service_uptake": "0", "text_confirm": "0", "hold_hours": "0", "seed": "1"}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            run = create_run(current_user, **values)
        except ValidationFailed as exc:
            undo()
            errors = exc.errors
        else:
            flash("Simulation started: it runs in the background, and this page shows its progress.", "success")
            return redirect(url_for("simulation.show", run_id=run.id))
    runs = db.session.scalars(select(SimulationRun).order_by(SimulationRun.id.desc()).limit(10)).all()
    return render_template("simulation/planner.html", errors=errors, values=values, runs=runs,
                           max_cases=current_app.config["TTS_PLANNER_MAX_CASES"]), (400 if errors else 200)


@bp.route("/planner/<id:run_id>")
@require("reports.view", record="role")
def show(run_id: int):
    run = db.session.get(SimulationRun, run_id) or abort(404)
    charts = {}
    if run.status == "done":
        main = run.results["main"]
        curves = {g: list(enumerate(main["reach_curves_hours"].get(g, []))) for g in GROUPS
                  if main["reach_curves_hours"].get(g)}
        charts["curves"] = line_chart(curves, title="Share reached by hours since they joined the queue",
                                      x_label="hours since joining the queue", chart_id="curves",
                                      references=REFERENCES)
        staffing = {"cases": [(s["tracers"], s["cases_within_24h"] or 0) for s in run.results["staffing"]],
                    "household_contacts": [(s["tracers"], s["household_contacts_within_24h"] or 0)
                                           for s in run.results["staffing"]]}
        charts["staffing"] = line_chart(staffing, title="Reached within 24 hours, by tracers on shift",
                                        x_label="tracers on shift", chart_id="staffing", references=REFERENCES)
    advice = recommendation(run.results["staffing"], run.inputs["tracers"]) if run.status == "done" else None
    return render_template("simulation/show.html", run=run, charts=charts, labels=LABELS, groups=GROUPS,
                           progress_of=progress_of, advice=advice)


@bp.route("/planner/<id:run_id>/progress")
@require("reports.view", record="role")
def progress(run_id: int):
    run = db.session.get(SimulationRun, run_id) or abort(404)
    response = render_template("simulation/_progress.html", run=run, progress_of=progress_of)
    if run.status in ("done", "failed"):
        return response, 200, {"HX-Refresh": "true"}
    return response
