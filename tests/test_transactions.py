"""One commit point (tts/transaction.py, tts/jobs.py): a request, a CLI command and a background job each
commit once at their boundary; an exception rolls everything back; steps commit where the work yields."""
import re
from pathlib import Path

import click
import pytest
from flask.cli import with_appcontext
from sqlalchemy import select

from tests.factories import person_data
from tts.errors import DomainError, ValidationFailed
from tts.extensions import db
from tts.jobs import JOBS, Job, run_job, run_pending
from tts.people.models import Person
from tts.transaction import command_boundary, run_steps, undo
from tts.worker import AUDIT_LANE, PASS_LANE, SLOW_LANE

ROOT = Path(__file__).resolve().parent.parent


def _person(name: str) -> Person:
    data = person_data(1)
    person = Person(first_name=name, last_name="Boundary", date_of_birth=data.date_of_birth,
                    phone=None, postcode="S1 2HH")
    db.session.add(person)
    db.session.flush()
    return person


def _names() -> set[str]:
    return set(db.session.scalars(select(Person.first_name).where(Person.last_name == "Boundary")))


def test_commit_is_called_only_by_the_boundaries_named_in_the_architecture_doc():
    """Services only flush. The boundaries are listed in docs/architecture.md, and nothing else commits."""
    committing = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tts").rglob("*.py")
                        if re.search(r"\.commit\(\)", p.read_text("utf-8")))
    assert committing == ["tts/jobs.py", "tts/simulation/engine.py", "tts/transaction.py"], committing
    architecture = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    for path in committing:
        assert path in architecture, f"{path} commits but docs/architecture.md does not name it as a boundary"


@pytest.mark.no_rollback
def test_a_request_commits_once_when_it_answers_and_rolls_back_on_an_exception(fresh_database_url, monkeypatch):
    from flask import Blueprint

    from tests.conftest import make_app
    from tts import access_policy

    app = make_app(fresh_database_url("boundary"))
    bp = Blueprint("boundary_test", __name__)

    @bp.post("/_test/boundary/<outcome>")
    def write(outcome: str):
        _person(f"req-{outcome}")
        if outcome == "refused":
            raise DomainError("That cannot be done now")
        if outcome == "invalid":
            raise ValidationFailed({"name": ["Enter a name"]})
        if outcome == "undone":
            undo()
            _person("req-after-undo")  # what the view records after refusing stands
            return "shown again", 400
        return "ok", 200

    app.register_blueprint(bp)
    monkeypatch.setitem(access_policy.ROUTES, "boundary_test.write", access_policy.PUBLIC)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        client = app.test_client()
        assert client.post("/_test/boundary/ok").status_code == 200
        assert client.post("/_test/boundary/refused").status_code == 409  # DomainError: its one handler
        assert client.post("/_test/boundary/invalid").status_code == 422
        assert client.post("/_test/boundary/undone").status_code == 400
        with app.app_context():
            assert _names() == {"req-ok", "req-after-undo"}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_steps_commit_where_the_work_yields_and_the_rest_rolls_back_on_failure(ctx):
    def steps():
        _person("step-1")
        yield "step one must stand before step two calls out"
        _person("step-2")
        raise RuntimeError("the network call failed")

    with ctx():
        with pytest.raises(RuntimeError):
            run_steps(steps())
        db.session.rollback()
        assert _names() == {"step-1"}


def test_a_job_commits_at_its_end_and_rolls_back_if_it_fails(ctx):
    def good():
        _person("job-good")
        return 1

    def bad():
        _person("job-bad")
        raise RuntimeError("boom")

    with ctx():
        assert run_job(Job("good", good, "pass")) == 1
        with pytest.raises(RuntimeError):
            run_job(Job("bad", bad, "pass"))
        assert run_job(Job("skipped", bad, "pass", when=lambda: False)) == 0
        assert _names() == {"job-good"}


def test_a_pending_job_that_fails_is_marked_failed_and_its_writes_are_undone(ctx):
    from tts.imports.models import ImportBatch

    with ctx():
        db.session.add(ImportBatch(file_name="referrals.csv", status="pending", payload=""))
        db.session.commit()

        def work(batch_id: int):
            _person("pending-work")
            raise RuntimeError("boom")

        def failed(batch_id: int, error: Exception) -> None:
            batch = db.session.get(ImportBatch, batch_id)
            batch.status, batch.errors = "failed", [{"row": 1, "column": "", "message": type(error).__name__}]

        assert run_pending(ImportBatch, work, failed, status="processing") == 1
        assert run_pending(ImportBatch, work, failed, status="processing") == 0
        batch = db.session.scalars(select(ImportBatch)).one()
        assert batch.status == "failed" and batch.errors[0]["message"] == "RuntimeError"
        assert _names() == set()


def test_a_command_commits_when_it_returns_and_not_when_it_fails(app, ctx):
    @click.command("boundary-test")
    @click.option("--fail", is_flag=True)
    @with_appcontext
    @command_boundary
    def command(fail: bool):
        _person("cmd-fail" if fail else "cmd-ok")
        if fail:
            raise SystemExit(1)

    runner = app.test_cli_runner()
    assert runner.invoke(command, []).exit_code == 0
    assert runner.invoke(command, ["--fail"]).exit_code == 1
    with ctx():
        assert _names() == {"cmd-ok"}


def test_every_declared_job_runs_on_its_lane_of_the_worker(app):
    assert sorted(PASS_LANE + SLOW_LANE + AUDIT_LANE) == sorted(JOBS), "a job no lane runs, or a lane naming no job"
    assert all(JOBS[name].lane == "pass" for name in PASS_LANE)
    assert all(JOBS[name].lane == "slow" for name in SLOW_LANE)
    assert all(JOBS[name].lane == "audit" for name in AUDIT_LANE)
