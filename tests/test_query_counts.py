"""No N+1: the main pages run the same number of SQL statements however many rows they show."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from tests.conftest import sign_in
from tests.factories import person_data
from tts.callqueue.models import WorkItem
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_item, claim_next
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db


@contextmanager
def counting(app):
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_work(app, tracer_id: int, households: int, start: int) -> None:
    """Cases with a household contact and a close contact; a few calls made on them."""
    from tts.auth.models import User

    with app.app_context():
        tracer = db.session.get(User, tracer_id)
        for n in range(start, start + households):
            case = create_case(tracer, person_data(n, last_name=f"Rowcount{n}", phone=f"07700 900{n % 1000:03d}"),
                               test_date=today(), symptom_onset_date=None)
            add_contact(tracer, case, person_data(n + 500, address=None, postcode=None), relationship="household",
                        last_exposure_date=today())
            add_contact(tracer, case, person_data(n + 700, address="9 Far Rd", postcode="S10 2TN"),
                        relationship="close", last_exposure_date=today())
        db.session.flush()
        for _ in range(households // 2):
            claim = claim_next(tracer)
            if claim is None:
                break
            for item in [claim.item, *claim.also_claimed]:
                record_attempt(tracer, item, outcome="no_answer")
        db.session.commit()


PAGES = ["/queue/", "/supervise/", "/supervise/panel", "/supervise/queue", "/reports/", "/admin/audit/", "/cases/",
         "/escalations/", "/support/"]


@pytest.fixture
def staff(app, make_user):
    tracer = make_user("tracer")
    supervisor = make_user("supervisor")
    admin = make_user("admin")
    return tracer, supervisor, admin


def _counts(app, client, urls) -> dict[str, int]:
    out = {}
    for url in urls:
        with counting(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        out[url] = len(statements)
    return out


def test_page_query_counts_do_not_grow_with_rows(app, staff, daytime):
    tracer, supervisor, admin = staff
    sup_client, admin_client = app.test_client(), app.test_client()
    sign_in(sup_client, supervisor)
    sign_in(admin_client, admin)
    add_work(app, tracer["id"], 4, 0)
    small = _counts(app, sup_client, [p for p in PAGES if p != "/admin/audit/"]) | \
        _counts(app, admin_client, ["/admin/audit/"])
    add_work(app, tracer["id"], 16, 100)
    large = _counts(app, sup_client, [p for p in PAGES if p != "/admin/audit/"]) | \
        _counts(app, admin_client, ["/admin/audit/"])
    tracer_client = app.test_client()
    sign_in(tracer_client, tracer)
    small["/queue/ (tracer)"] = _counts(app, tracer_client, ["/queue/"])["/queue/"]
    add_work(app, tracer["id"], 16, 120)
    large["/queue/ (tracer)"] = _counts(app, tracer_client, ["/queue/"])["/queue/"]
    grew = {url: (small[url], large[url]) for url in small if large[url] > small[url]}
    assert grew == {}, f"queries grew with rows (before, after): {grew}"


def test_call_screen_and_person_page_query_counts_do_not_grow(app, staff, daytime):
    tracer, supervisor, _ = staff
    tracer_client = app.test_client()
    sign_in(tracer_client, tracer)

    def screen_counts(members: int) -> dict[str, int]:
        from tts.auth.models import User

        with app.app_context():
            user = db.session.get(User, tracer["id"])
            case = create_case(user, person_data(members, phone=f"07700 900{members:03d}"),
                               test_date=today(), symptom_onset_date=None)
            for k in range(members):
                add_contact(user, case, person_data(k, address=None, postcode=None), relationship="household",
                            last_exposure_date=today())
            db.session.flush()
            item = db.session.scalars(select(WorkItem).where(WorkItem.case_id == case.id)).one()
            claim_item(user, item)  # the household comes with it: more people on the call screen
            db.session.commit()
            item_id, person_id = item.id, case.person_id
        return _counts(app, tracer_client, [f"/queue/items/{item_id}", f"/people/{person_id}"])

    few = screen_counts(1)
    many = screen_counts(5)
    grew = [(a, b) for a, b in zip(few.values(), many.values()) if b > a]
    assert grew == [], (few, many)


def household_of_four(app, tracer_id: int) -> None:
    """A case and three household contacts on one number: one claim takes all four."""
    from tts.auth.models import User

    with app.app_context():
        user = db.session.get(User, tracer_id)
        case = create_case(user, person_data(1, phone="07700 900101"), test_date=today(), symptom_onset_date=None)
        for k in range(3):
            add_contact(user, case, person_data(k + 10, address=None, postcode=None), relationship="household",
                        last_exposure_date=today())
        db.session.commit()


def test_api_claim_and_outcome_answers_need_no_reads_after_the_commit(app, api_token, daytime):
    """The answers are written from the objects the services left, before the commit: after it, every
    attribute read would reload its row (a claim with five companions read about twenty rows again)."""
    headers, tracer = api_token("tracer")
    household_of_four(app, tracer["id"])
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    after_commit: list[str] = []
    committed = []

    def on_commit(conn, *args):
        # Only what follows the request's last commit counts: the token's "last used" time, due once a
        # minute, is committed on its own before the request's work.
        committed.append(True)
        after_commit.clear()

    def on_statement(conn, cursor, statement, *args):
        if committed and not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            after_commit.append(statement)

    for name in ("commit", "release_savepoint"):
        event.listen(engine, name, on_commit)
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        claim = client.post("/api/v1/queue/claim", headers=headers)
        assert claim.status_code == 200 and len(claim.json["also_claimed"]) == 3
        assert committed and after_commit == []
        for item in [claim.json["work_item"], *claim.json["also_claimed"]]:
            committed.clear()
            answer = client.post(f"/api/v1/work-items/{item['id']}/attempts", headers=headers,
                                 json={"outcome": "no_answer", "claim_token": item["claim_token"]})
            assert answer.status_code == 201, answer.json
            assert answer.json["work_item"]["attempts"] == 1 and answer.json["attempt"]["id"]
            assert committed and after_commit == []
    finally:
        for name in ("commit", "release_savepoint"):
            event.remove(engine, name, on_commit)
        event.remove(engine, "before_cursor_execute", on_statement)


def test_api_claim_and_outcome_statement_budget(app, api_token, daytime, monkeypatch):
    """The queue's two hot requests, statement by statement (docs/benchmarks.md): a claim with three
    companions in 9 statements (8 on PostgreSQL, with the token's "last used": the people on the call are
    found inside the companions' statement there), an outcome in 9 (7: the item is read once, by its
    locking read, which also finds the tracer's masked call, if any), a whole call's outcome in 2 + 7 a
    person (2 + 6). As production runs: the claim's and the outcome's audit events are INSERTed with the rest,
    and nothing in the request touches the chain (no lock, no head, no seal: the worker seals them later)."""
    monkeypatch.setitem(app.config, "TTS_AUDIT_SEAL_AT_COMMIT", False)
    headers, tracer = api_token("tracer")
    household_of_four(app, tracer["id"])
    client = app.test_client()
    with app.app_context():
        on_postgresql = db.engine.dialect.name == "postgresql"

    def audit_writes(statements):
        return [("CHAIN" if "advisory" in s or "chain_seq DESC" in s else s.split("audit_events")[0].split()[0])
                for s in statements if "INTO audit_events" in s or s.lstrip().startswith("UPDATE audit_events")
                or "advisory" in s or "chain_seq DESC" in s]

    sealed_write = "INSERT"

    with counting(app) as claim_statements:
        claim = client.post("/api/v1/queue/claim", headers=headers)
    items = [claim.json["work_item"], *claim.json["also_claimed"]]
    assert len(items) == 4
    # The token's first use of the minute records it on PostgreSQL here (auth.services): one more there.
    assert len(claim_statements) <= (8 if on_postgresql else 9), "\n".join(claim_statements)
    assert audit_writes(claim_statements) == [sealed_write]
    first, *others = items
    with counting(app) as outcome_statements:
        answer = client.post(f"/api/v1/work-items/{first['id']}/attempts", headers=headers,
                             json={"outcome": "no_answer", "claim_token": first["claim_token"]})
    assert answer.status_code == 201
    assert len(outcome_statements) <= (7 if on_postgresql else 9), "\n".join(outcome_statements)
    # The text's event and the attempt's: inserted with the rest, in one statement or several.
    assert set(audit_writes(outcome_statements)) == {sealed_write}
    with counting(app) as call_statements:
        answer = client.post("/api/v1/calls/attempts", headers=headers, json={
            "outcome": "voicemail", "items": [{"id": i["id"], "claim_token": i["claim_token"]} for i in others]})
    assert answer.status_code == 201 and len(answer.json["attempts"]) == 3
    assert len(call_statements) <= 2 + (6 if on_postgresql else 7) * 3, "\n".join(call_statements)
