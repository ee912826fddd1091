"""Idempotency-Key on the API's creating operations: the same key from the same token within 24 hours gets
the first answer again and writes nothing new, even when the first answer was lost; racing retries with one
key write once (real threads against the suite's database: PostgreSQL in the second pass)."""
import io
import threading
import uuid

import pytest
import time_machine
from sqlalchemy import func, select

from tests.api.test_cases_api import case_body
from tests.conftest import make_app
from tests.factories import person_data
from tts.callqueue.models import CallAttempt
from tts.cases.models import Case, Contact
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.imports.models import ImportBatch
from tts.support.models import SupportNeed


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _key() -> dict:
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_a_retried_case_gets_the_first_answer_and_writes_nothing_new(app, client, api_token):
    headers, _ = api_token("tracer")
    key = _key()
    before = _count(app, Case)
    first = client.post("/api/v1/cases", headers={**headers, **key}, json=case_body())
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # The first answer is lost on its way (the client never read it): the client retries with the same key.
    again = client.post("/api/v1/cases", headers={**headers, **key}, json=case_body())
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert _count(app, Case) == before + 1
    fresh = client.post("/api/v1/cases", headers={**headers, **_key()}, json=case_body(first_name="Ivo"))
    assert fresh.status_code == 201 and fresh.json["id"] != first.json["id"]


def test_the_same_key_for_a_different_request_is_422_and_other_tokens_keys_are_their_own(app, client, api_token):
    headers, _ = api_token("tracer")
    other, _ = api_token("tracer")
    key = _key()
    assert client.post("/api/v1/cases", headers={**headers, **key}, json=case_body()).status_code == 201
    changed = client.post("/api/v1/cases", headers={**headers, **key}, json=case_body(first_name="Ione-Mae"))
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json["errors"]
    theirs = client.post("/api/v1/cases", headers={**other, **key}, json=case_body(first_name="Otto"))
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    for bad in ("", "has space", "x" * 256, "caf\u00e9"):
        response = client.post("/api/v1/cases", headers={**headers, "Idempotency-Key": bad}, json=case_body())
        assert response.status_code == 422 and "Idempotency-Key" in response.json["errors"], bad


def test_a_failed_request_keeps_no_answer_so_a_corrected_retry_goes_through(app, client, api_token):
    headers, _ = api_token("tracer")
    key = _key()
    body = case_body()
    body["test_date"] = "not a date"
    assert client.post("/api/v1/cases", headers={**headers, **key}, json=body).status_code == 422
    assert client.post("/api/v1/cases", headers={**headers, **key}, json=case_body()).status_code == 201


def test_after_24_hours_a_key_counts_as_new(app, client, api_token, daytime):
    headers, _ = api_token("tracer")
    key = _key()
    first = client.post("/api/v1/cases", headers={**headers, **key}, json=case_body())
    daytime.shift(24 * 3600 + 1)
    body = {**case_body(), "new_episode": True}  # the same person again: a new illness, said so
    later = client.post("/api/v1/cases", headers={**headers, **key}, json=body)
    assert later.status_code == 201 and later.json["id"] != first.json["id"]


def test_every_creating_operation_honours_the_key(app, ctx, client, api_token, daytime):
    headers, user = api_token("supervisor")
    with ctx():
        case = create_case(None, person_data(61, address="6 Retry Row"), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        case_id, person_id = case.id, case.person_id
    claim = client.post("/api/v1/queue/claim", headers=headers).json
    item = claim["work_item"]
    from tts.imports.services import COLUMNS

    csv_text = ",".join(COLUMNS) + "\n"
    operations = [
        (Contact, "post", f"/api/v1/cases/{case_id}/contacts", {"json": {
            "person": {"first_name": "Kit", "last_name": "Retry", "phone": "07700 900671"},
            "relationship": "close", "last_exposure_date": today().isoformat()}}),
        (SupportNeed, "post", f"/api/v1/people/{person_id}/support-needs", {"json": {"kind": "food"}}),
        (CallAttempt, "post", f"/api/v1/work-items/{item['id']}/attempts", {"json": {
            "outcome": "no_answer", "claim_token": item.get("claim_token")}}),
        (ImportBatch, "post", "/api/v1/imports", {"data": lambda: {
            "file": (io.BytesIO((csv_text + "case,R9,Ada,Kestrel,1990-02-01,07700 900672,,1 Mock Street,S1 2HH,"
                                 + today().isoformat() + ",,,,\n").encode()), "referrals.csv")}}),
    ]
    for model, method, url, kwargs in operations:
        key = _key()
        before = _count(app, model)
        answers = []
        for _ in range(2):
            call = {k: (v() if callable(v) else v) for k, v in kwargs.items()}
            answers.append(client.open(url, method=method.upper(), headers={**headers, **key}, **call))
        assert answers[0].status_code == 201, (url, answers[0].get_data(as_text=True))
        assert answers[1].status_code == 201 and answers[1].headers.get("Idempotent-Replayed") == "true", url
        assert answers[1].json == answers[0].json, url
        assert _count(app, model) == before + 1, url


def test_a_call_outcome_retried_is_recorded_once(app, ctx, client, api_token, daytime):
    headers, _ = api_token("tracer")
    with ctx():
        create_case(None, person_data(62, address="7 Retry Row"), test_date=today(), symptom_onset_date=None)
    claim = client.post("/api/v1/queue/claim", headers=headers).json
    items = [{"id": i["id"], "claim_token": i["claim_token"]} for i in [claim["work_item"], *claim["also_claimed"]]]
    key = _key()
    before = _count(app, CallAttempt)
    first = client.post("/api/v1/calls/attempts", headers={**headers, **key}, json={"items": items,
                                                                                      "outcome": "no_answer"})
    again = client.post("/api/v1/calls/attempts", headers={**headers, **key}, json={"items": items,
                                                                                      "outcome": "no_answer"})
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert _count(app, CallAttempt) == before + len(items)


@pytest.mark.no_rollback
def test_racing_retries_with_one_key_write_once(fresh_database_url):
    """Eight threads, each with its own connection, send the same request with the same key at once: one
    case is written, and every thread gets its answer."""
    from tts.auth.models import User
    from tts.auth.services import create_user, issue_api_token

    app = make_app(fresh_database_url("idempotency_race"),
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12, "max_overflow": 4})
    with app.app_context():
        user = create_user(None, email="racer@idem.example", name="Rae Retry", role="tracer",
                           password="quartz-meadow-lamp")
        _, plain = issue_api_token(None, db.session.get(User, user.id))
        db.session.commit()
    headers = {"Authorization": f"Bearer {plain}", "Idempotency-Key": str(uuid.uuid4())}
    with time_machine.travel("2026-11-23T10:00:00+00:00", tick=True):
        body = case_body()
        barrier = threading.Barrier(8)
        answers, lock = [], threading.Lock()

        def send():
            client = app.test_client()
            barrier.wait()
            response = client.post("/api/v1/cases", headers=headers, json=body)
            with lock:
                answers.append((response.status_code, (response.json or {}).get("id")))

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    try:
        ids = {case_id for status, case_id in answers if status == 201}
        assert len(ids) == 1, answers
        assert all(status in (201, 503) for status, _ in answers), answers  # 503: SQLite's lock, retry later
        assert _count(app, Case) == 1
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
