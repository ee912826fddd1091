"""KPIs against a hand-computed scenario, including the 24-hour boundary and the clock change."""
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tts.callqueue.models import WorkItem
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_item
from tts.cases.services import add_contact, create_case
from tts.escalation.models import Escalation
from tts.escalation.services import assign_visit, record_visit
from tts.extensions import db
from tts.reports.filters import Filters
from tts.reports.kpis import compute, publication_rows

H = timedelta(hours=1)
CALL_KEYS = ("total", "reached", "reached_pct", "reached_within_24h", "reached_within_24h_pct", "median_hours_to_reach")


def by_call(figures: dict) -> dict:
    """The figures for reach by call or visit (the national measure); reach by text is tested apart."""
    assert figures["reached_by_text"] == 0 and figures["reached_any"] == figures["reached"]  # no texts here
    return {key: figures[key] for key in CALL_KEYS}
# 28 March 2026 is a Saturday; clocks go forward at 01:00 UTC on Sunday 29 March.
SAT = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)     # 09:00 GMT
SUN = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)     # 10:00 BST
LATE_SAT = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 23:30 GMT: still Saturday in London


def reach(tracer, item, at):
    with time_machine.travel(at, tick=False):
        claim_item(tracer, item, now=at)
        record_attempt(tracer, item, outcome="reached", now=at)


def item_of(subject, column):
    return db.session.scalars(select(WorkItem).where(column == subject.id)).one()


@pytest.fixture
def scenario(app):
    """Saturday: case A (reached after 2 h), its household contact (reached 24 h later exactly), its close
    contact (never), case B (no phone: escalated, reached on the doorstep after 30 h).
    Late Saturday 23:30 UTC: case C, London date Saturday (still GMT), reached 10.5 h later across the change.
    Sunday: case D (reached after 1 h)."""
    with app.app_context():
        tracer = UserFactory(role="tracer")
        officer = UserFactory(role="tracer", is_field_officer=True)
        with time_machine.travel(SAT, tick=False):
            a = create_case(None, person_data(1), test_date=date(2026, 3, 28), symptom_onset_date=None)
            household = add_contact(None, a, person_data(2, address=None, postcode=None), relationship="household",
                                    last_exposure_date=date(2026, 3, 28))
            add_contact(None, a, person_data(3, address="9 Far Rd", postcode="S10 2TN"), relationship="close",
                        last_exposure_date=date(2026, 3, 28))
            b = create_case(None, person_data(4, phone=None, address="4 D St", postcode="S6 1AA"),
                            test_date=date(2026, 3, 28), symptom_onset_date=None)
        reach(tracer, item_of(a, WorkItem.case_id), SAT + 2 * H)
        reach(tracer, item_of(household, WorkItem.contact_id), SAT + 24 * H)
        escalation = db.session.scalars(select(Escalation).where(Escalation.person_id == b.person_id)).one()
        assign_visit(None, escalation, officer)
        with time_machine.travel(SAT + 30 * H, tick=False):
            record_visit(officer, escalation, outcome="reached", now=SAT + 30 * H)
        with time_machine.travel(LATE_SAT, tick=False):
            c = create_case(None, person_data(5, address="5 E St", postcode="S7 1AA"), test_date=date(2026, 3, 28),
                            symptom_onset_date=None)
        reach(tracer, item_of(c, WorkItem.case_id), LATE_SAT + 10.5 * H)
        with time_machine.travel(SUN, tick=False):
            d = create_case(None, person_data(6, address="6 F St", postcode="S8 1AA"), test_date=date(2026, 3, 29),
                            symptom_onset_date=None)
        reach(tracer, item_of(d, WorkItem.case_id), SUN + 1 * H)
        db.session.commit()
    yield


def test_saturday_figures(app, scenario):
    with app.app_context():
        k = compute(Filters(date(2026, 3, 28), date(2026, 3, 28)))
    # Cases on Saturday (London): A (2 h), B (30 h, doorstep), C (10.5 h).
    assert by_call(k["cases"]) == {"total": 3, "reached": 3, "reached_pct": 100.0, "reached_within_24h": 2,
                          "reached_within_24h_pct": 66.7, "median_hours_to_reach": 10.5}
    # The household contact was reached exactly 24 h after creation: that counts as within 24 h.
    assert by_call(k["household_contacts"]) == {"total": 1, "reached": 1, "reached_pct": 100.0, "reached_within_24h": 1,
                                       "reached_within_24h_pct": 100.0, "median_hours_to_reach": 24.0}
    assert k["non_household_contacts"]["reached_pct"] == 0.0 and k["non_household_contacts"]["total"] == 1
    assert k["non_household_contacts"]["median_hours_to_reach"] is None
    assert k["contacts"]["total"] == 2 and k["contacts"]["reached_pct"] == 50.0
    assert k["escalations"] == {"opened": 1, "resolved": 0}  # resolved on Sunday
    assert list(k["by_day"]["cases"]) == ["2026-03-28"]


def test_sunday_and_the_whole_weekend(app, scenario):
    with app.app_context():
        sunday = compute(Filters(date(2026, 3, 29), date(2026, 3, 29)))
        weekend = compute(Filters(date(2026, 3, 28), date(2026, 3, 29)))
        s6 = compute(Filters(date(2026, 3, 28), date(2026, 3, 29), district="s6"))
        empty = compute(Filters(date(2026, 1, 1), date(2026, 1, 2)))
    assert sunday["cases"]["total"] == 1 and sunday["cases"]["median_hours_to_reach"] == 1.0
    assert sunday["escalations"] == {"opened": 0, "resolved": 1}
    assert weekend["cases"]["total"] == 4 and weekend["cases"]["reached_within_24h"] == 3
    assert weekend["cases"]["median_hours_to_reach"] == 6.2  # median of 1, 2, 10.5, 30 = 6.25
    assert s6["cases"]["total"] == 1
    assert by_call(empty["cases"]) == {"total": 0, "reached": 0, "reached_pct": None, "reached_within_24h": 0,
                              "reached_within_24h_pct": None, "median_hours_to_reach": None}


def test_api_contract(app, client, api_token, scenario):
    headers, _ = api_token("reporting")
    response = client.get("/api/v1/reports/kpis?from=2026-03-28&to=2026-03-28", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["cases"] == {"total": 3, "reached": 3, "reached_pct": 100.0, "reached_within_24h_pct": 66.7,
                             "median_hours_to_reach": 10.5, "reached_by_text": 0, "reached_by_text_pct": 0.0,
                             "reached_any_pct": 100.0, "reached_any_within_24h_pct": 66.7}
    assert set(body) >= {"cases", "contacts", "household_contacts", "non_household_contacts", "escalations"}
    assert body["escalations"] == {"opened": 1, "resolved": 0}
    assert client.get("/api/v1/reports/kpis?from=2026-13-01&to=2026-03-28", headers=headers).status_code == 422
    assert client.get("/api/v1/reports/kpis", headers=headers).status_code == 422
    tracer, _ = api_token("tracer")
    assert client.get("/api/v1/reports/kpis?from=2026-03-28&to=2026-03-28", headers=tracer).status_code == 403


def test_publication_suppresses_small_numbers(app, scenario):
    with app.app_context():
        rows = publication_rows(compute(Filters(date(2026, 3, 28), date(2026, 3, 29))), threshold=5)
    cases = rows[1]
    assert cases == ["cases", "[c]", "[c]", "[c]", "[c]", "[c]", "[c]", 0, "[c]"]
    with app.app_context():
        rows = publication_rows(compute(Filters(date(2026, 3, 28), date(2026, 3, 29))), threshold=2)
    assert rows[1] == ["cases", 4, 4, 100.0, 3, 75.0, 6.2, 0, 0.0]
    assert rows[3][:2] == ["household_contacts", "[c]"]


def test_kpi_page_for_reporting_staff(client, make_user, scenario):
    from tests.conftest import sign_in

    sign_in(client, make_user("reporting"))
    page = client.get("/reports/?from=2026-03-28&to=2026-03-29")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "National service, household contacts: 50%" in html
    assert "Share reached by day (the data in the chart)" in html and "29 Mar 2026" in html
    assert 'font-size="' not in html  # chart text takes the page's font and size from the stylesheet
    empty = client.get("/reports/?from=2020-01-01&to=2020-01-02").get_data(as_text=True)
    assert 'class="tts-chart"' not in empty and "Nobody was logged in these dates, so there is no chart" in empty
    assert "No cases were reached in these dates, so there is no chart." in empty
    publication = client.get("/reports/publication.csv?from=2026-03-28&to=2026-03-29").get_data(as_text=True)
    assert "cases,[c],[c]" in publication
    bad = client.get("/reports/?from=yesterday").get_data(as_text=True)
    assert "Use a date in the form YYYY-MM-DD" in bad


def test_kpis_are_cached_for_a_few_minutes_and_say_when_they_were_worked_out(app, scenario):
    from tts.cache import clear
    from tts.reports.kpis import compute_cached

    app.config["TTS_KPI_CACHE_SECONDS"] = 300
    clear()
    try:
        with app.app_context():
            f = Filters(date(2026, 3, 28), date(2026, 3, 28))
            first = compute_cached(f)
            with time_machine.travel(SAT + 3 * H, tick=False):
                create_case(None, person_data(9), test_date=date(2026, 3, 28), symptom_onset_date=None)
            db.session.flush()
            assert compute_cached(f) == first  # within the five minutes: the same figures
            app.config["TTS_KPI_CACHE_SECONDS"] = 0
            fresh = compute_cached(f)
            assert fresh["cases"]["total"] == first["cases"]["total"] + 1  # worked out again: the new case
            assert fresh["computed_at"] >= first["computed_at"]
    finally:
        app.config["TTS_KPI_CACHE_SECONDS"] = 0
        clear()


@pytest.mark.no_rollback
def test_kpis_read_from_the_reporting_database_when_one_is_set(fresh_database_url):
    """With TTS_REPORTING_DATABASE_URL (a read replica in production; the same database here) the figures'
    queries go through that engine, in a read-only transaction on PostgreSQL."""
    from sqlalchemy import event

    from tests.conftest import DAYTIME, make_app

    url = fresh_database_url("kpi_reporting")
    app = make_app(url, TTS_REPORTING_DATABASE_URL=url)
    with time_machine.travel(DAYTIME, tick=False), app.app_context():
        day = datetime.fromisoformat(DAYTIME).date()
        create_case(None, person_data(1), test_date=day, symptom_onset_date=None)
        db.session.commit()
        seen = []
        event.listen(db.engines["reporting"], "before_cursor_execute",
                     lambda conn, cursor, statement, *args: seen.append(statement))
        figures = compute(Filters(day, day))
        assert figures["cases"]["total"] == 1
        assert any("FROM cases" in s for s in seen) and any("FROM escalations" in s for s in seen)
        if db.engines["reporting"].dialect.name == "postgresql":
            assert any("READ ONLY" in s for s in seen)
            assert any("max_parallel_workers_per_gather = 0" in s for s in seen)
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_a_report_keeps_to_one_core_for_its_transaction_only(app):
    """PostgreSQL would give a large report scan parallel workers (every core of a small server, the call
    queue's too): reports read with TTS_REPORT_PARALLEL_WORKERS (0), set for their transaction only."""
    from sqlalchemy import text

    from tts.reports.reading import reading

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL setting")
        before = db.session.scalar(text("SHOW max_parallel_workers_per_gather"))
        with db.session.begin_nested():
            with reading() as connection:
                assert connection.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        app.config["TTS_REPORT_PARALLEL_WORKERS"] = 1
        with reading() as connection:
            assert connection.scalar(text("SHOW max_parallel_workers_per_gather")) == "1"
        db.session.rollback()
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == before
