"""KPI figures are computed once and shared by every process through a snapshot row; the worker keeps
the page's default view fresh; on PostgreSQL, processes asking at the same moment compute it once."""
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import delete, select, update

from tests.conftest import make_app
from tests.factories import person_data
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.reports import kpis
from tts.reports.models import ReportSnapshot
from tts.worker import run_once

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = kpis.compute

    def compute(f):
        calls.append(f)
        return real(f)

    monkeypatch.setattr(kpis, "compute", compute)
    return calls


def test_figures_are_computed_once_then_shared_until_they_are_stale(app, monkeypatch, counted):
    monkeypatch.setitem(app.config, "TTS_KPI_CACHE_SECONDS", 300)
    with time_machine.travel(NOON, tick=False), app.app_context():
        f = kpis.default_filters()
        first = kpis.compute_cached(f)
        create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        db.session.commit()
        second = kpis.compute_cached(f)  # what any other process would get too: it is read from the row
        assert len(counted) == 1 and second == first and second["cases"]["total"] == 0
        assert db.session.scalar(select(ReportSnapshot.key)) == kpis.snapshot_key(f)
    with time_machine.travel(NOON + timedelta(seconds=301), tick=False), app.app_context():
        third = kpis.compute_cached(kpis.default_filters())
        assert len(counted) == 2 and third["cases"]["total"] == 1 and third["computed_at"] > first["computed_at"]


def test_other_filters_have_their_own_figures_and_old_ones_are_cleared(app, monkeypatch, counted):
    monkeypatch.setitem(app.config, "TTS_KPI_CACHE_SECONDS", 300)
    with time_machine.travel(NOON, tick=False), app.app_context():
        kpis.compute_cached(kpis.Filters(today() - timedelta(days=3), today(), district="s1"))
        db.session.commit()  # as the request that asked for them does, at its end
    with time_machine.travel(NOON + timedelta(days=2), tick=False), app.app_context():
        kpis.compute_cached(kpis.Filters(today() - timedelta(days=3), today()))
        assert len(counted) == 2 and len(db.session.scalars(select(ReportSnapshot.key)).all()) == 2
        run_once()  # the worker refreshes the default view and removes figures nobody asked for in a day
        keys = set(db.session.scalars(select(ReportSnapshot.key)))
        assert keys == {kpis.snapshot_key(kpis.Filters(today() - timedelta(days=3), today())),
                        kpis.snapshot_key(kpis.default_filters())}


def test_the_worker_keeps_the_default_view_fresh(app, monkeypatch, counted):
    monkeypatch.setitem(app.config, "TTS_KPI_CACHE_SECONDS", 300)
    with time_machine.travel(NOON, tick=False), app.app_context():
        assert run_once()["kpis_refreshed"] == 1
        assert run_once()["kpis_refreshed"] == 0  # still fresh
        kpis.compute_cached(kpis.default_filters())  # the analyst's page: no computing in the request
        assert len(counted) == 1
    with time_machine.travel(NOON + timedelta(seconds=151), tick=False), app.app_context():
        assert run_once()["kpis_refreshed"] == 1  # half the cache time gone: refreshed ahead of the page
    monkeypatch.setitem(app.config, "TTS_KPI_CACHE_SECONDS", 0)
    with app.app_context():
        assert run_once()["kpis_refreshed"] == 0  # no cache (tests, the planner's scratch app): nothing to keep


def test_the_page_says_when_new_figures_are_being_worked_out(app, monkeypatch, make_user, client):
    from tests.conftest import sign_in

    monkeypatch.setattr(kpis, "compute_cached", lambda f: {**kpis.compute(f), "computed_at": NOON.isoformat(),
                                                           "refreshing": True})
    import tts.reports.views as views

    monkeypatch.setattr(views, "compute_cached", kpis.compute_cached)
    sign_in(client, make_user("reporting"))
    html = client.get("/reports/").get_data(as_text=True)
    assert "New figures are being worked out now" in html


@pytest.fixture(scope="module")
def shared_app(fresh_database_url, is_postgres):
    if not is_postgres:
        pytest.skip("the cross-process lock is PostgreSQL's (SQLite is the single-machine development default)")
    app = make_app(fresh_database_url("kpis"), TTS_KPI_CACHE_SECONDS=300)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.no_rollback
def test_processes_asking_at_once_compute_the_figures_once(shared_app, monkeypatch):
    """Six threads, each with its own connection (as six gunicorn workers would be), open the KPI page
    at the same moment with no figures yet: one computes, the others wait for its snapshot."""
    calls = []
    real = kpis.compute

    def slow_compute(f):
        calls.append(threading.get_ident())
        time.sleep(0.5)  # long enough for every thread to arrive while it runs
        return real(f)

    monkeypatch.setattr(kpis, "compute", slow_compute)
    answers, errors = [], []
    start = threading.Barrier(6)

    def open_page():
        try:
            with shared_app.app_context():
                start.wait()
                answers.append(kpis.compute_cached(kpis.default_filters()))
                db.session.commit()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_page) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and len(answers) == 6
    assert len(calls) == 1, f"computed {len(calls)} times"
    assert len({a["computed_at"] for a in answers}) == 1

    # Stale figures: one process recomputes while the others are given the previous figures at once.
    with shared_app.app_context():
        computed = db.session.scalar(select(ReportSnapshot.computed_at))
        db.session.execute(update(ReportSnapshot).values(computed_at=computed - timedelta(seconds=400)))
        db.session.commit()
    calls.clear()
    answers.clear()
    start.reset()
    threads = [threading.Thread(target=open_page) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and len(answers) == 6 and len(calls) == 1
    old = [a for a in answers if a.get("refreshing")]
    new = [a for a in answers if not a.get("refreshing")]
    assert old, "nobody was given the previous figures while they were recomputed"
    assert len({a["computed_at"] for a in old}) == 1 and len({a["computed_at"] for a in new}) == 1
    assert old[0]["computed_at"] < new[0]["computed_at"]
    with shared_app.app_context():
        db.session.execute(delete(ReportSnapshot))
        db.session.commit()
