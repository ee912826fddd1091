"""`flask --app wsgi simulate ...`: a simulated tracing period on a scratch database, figures printed and written."""
import csv
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tts.simulation.engine import ScratchDatabaseRefused, run
from tts.simulation.params import Params, Scenario


def flatten(figures: dict) -> list[tuple[str, object]]:
    """The headline figures as (name, value) rows, for the CSV and the printout."""
    rows = []
    for key, value in figures["results"].items():
        if isinstance(value, dict):
            rows.extend((f"{key}.{k}", v) for k, v in value.items())
        else:
            rows.append((key, value))
    return rows


@click.command("simulate")
@click.option("--cases", "cases", type=click.IntRange(1, 20_000), default=1000, show_default=True,
              help="Positive cases arriving each day.")
@click.option("--contacts-per-case", type=click.FloatRange(0, 20), default=3.0, show_default=True)
@click.option("--tracers", type=click.IntRange(1, 2_000), default=12, show_default=True,
              help="Tracers on shift through the calling hours.")
@click.option("--days", type=click.IntRange(1, 14), default=1, show_default=True, help="Days of arrivals.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--policy", type=click.Choice(["tts", "fifo"]), default="tts", show_default=True,
              help="tts: the app's queue rules; fifo: first come, first served, one person per call.")
@click.option("--no-presms", is_flag=True, help="Do not send the introduction text before the first call.")
@click.option("--no-household-calls", is_flag=True, help="Call household members one at a time.")
@click.option("--self-service", is_flag=True,
              help="Cases complete the online form and contacts confirm by text, at the rates in the parameters "
                   "(self_service_uptake, text_confirm_share).")
@click.option("--hold-hours", type=click.FloatRange(0, 24), default=0.0, show_default=True,
              help="With --self-service: a new case's first call waits this long for the online form.")
@click.option("--params", "params_file", type=click.Path(exists=True, dir_okay=False),
              help="JSON file overriding simulation parameters (docs/simulation.md).")
@click.option("--database-url", help="A scratch database to run on (default: a temporary SQLite file).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="simulation-results", show_default=True)
@with_appcontext
def simulate_command(cases, contacts_per_case, tracers, days, seed, policy, no_presms, no_household_calls,
                     self_service, hold_hours, params_file, database_url, out_dir):
    """Run simulated tracing days through the app's own queue rules; print and save the figures."""
    try:
        scenario = Scenario(cases_per_day=cases, contacts_per_case=contacts_per_case, tracers=tracers, days=days,
                            seed=seed, policy=policy, presms=not no_presms, household_calls=not no_household_calls,
                            self_service=self_service, hold_hours=hold_hours, params=Params.load(params_file))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        figures = run(scenario, database_url=database_url,
                      live_database_url=current_app.config["SQLALCHEMY_DATABASE_URI"])
    except ScratchDatabaseRefused as exc:
        raise click.UsageError(str(exc)) from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"simulation-{policy}-c{cases}-t{tracers}-d{days}-s{seed}" + ("-nosms" if no_presms else "") + (
        "-nohh" if no_household_calls else "") + ("-self" if self_service else "") + (
        f"-hold{hold_hours:g}" if self_service and hold_hours else "")
    (out / f"{stem}.json").write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    with open(out / f"{stem}.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["figure", "value"])
        writer.writerows(flatten(figures))
    click.echo(f"Simulated {days} day(s): {cases} cases a day, {contacts_per_case:g} contacts per case, "
               f"{tracers} tracers, policy {policy}, seed {seed} ({figures['run']['seconds']} s)")
    for name, value in flatten(figures):
        click.echo(f"  {name:<42} {value}")
    click.echo(f"Written: {out / (stem + '.json')} and {out / (stem + '.csv')}")
