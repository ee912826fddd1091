"""API v1 for the queue: claim (200/204), claim by id (409), release, attempts (201/409/422), escalations."""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import person_data
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db


@pytest.fixture
def queue(ctx, daytime):
    with ctx():
        case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        add_contact(None, case, person_data(2, address="4 Elsewhere", postcode="S10 2TN"), relationship="close",
                    last_exposure_date=today())
        nophone = add_contact(None, case, person_data(3, phone=None, address="5 Elsewhere", postcode="S10 2TN"),
                              relationship="close", last_exposure_date=today())
        db.session.flush()
        return {"case_id": case.id, "nophone_person": nophone.person_id}


def test_claim_next_answers_the_contract_then_204(client, api_token, queue):
    headers, _ = api_token("tracer")
    first = client.post("/api/v1/queue/claim", headers=headers)
    assert first.status_code == 200
    item = first.json["work_item"]
    assert set(item) >= {"id", "kind", "subject_type", "subject_id", "person", "priority", "due_at",
                         "claimed_until", "attempts"}
    assert (item["kind"], item["subject_type"], item["subject_id"], item["priority"], item["attempts"]) == (
        "initial_call", "case", queue["case_id"], 2, 0)
    assert item["person"]["phone"] == "+447700900001" and first.json["also_claimed"] == []
    assert item["claimed_until"] == "2026-11-23T10:20:00+00:00"
    second = client.post("/api/v1/queue/claim", headers=headers)
    assert second.status_code == 200 and second.json["work_item"]["id"] != item["id"]
    assert client.post("/api/v1/queue/claim", headers=headers).status_code == 204


def test_outside_calling_hours_answers_204_with_when_it_resumes(client, api_token, queue):
    headers, _ = api_token("tracer")
    with time_machine.travel(datetime(2026, 11, 23, 21, 0, tzinfo=UTC), tick=False):
        response = client.post("/api/v1/queue/claim", headers=headers)
    assert response.status_code == 204
    assert response.headers["X-Calling-Resumes-At"] == "2026-11-24T08:00:00+00:00"


def test_claim_by_id_release_and_409(client, api_token, queue):
    mine, _ = api_token("tracer")
    theirs, _ = api_token("supervisor")  # may open anyone's item by id; a tracer only people on their work
    stranger, _ = api_token("tracer")
    item_id = client.post("/api/v1/queue/claim", headers=mine).json["work_item"]["id"]
    assert client.post(f"/api/v1/work-items/{item_id}/claim", headers=stranger).status_code == 403
    conflict = client.post(f"/api/v1/work-items/{item_id}/claim", headers=theirs)
    assert conflict.status_code == 409 and "another tracer" in conflict.json["error"]
    assert client.post(f"/api/v1/work-items/{item_id}/release", headers=theirs).status_code == 409
    released = client.post(f"/api/v1/work-items/{item_id}/release", headers=mine)
    assert released.status_code == 200 and released.json["work_item"]["status"] == "open"
    assert client.post(f"/api/v1/work-items/{item_id}/claim", headers=theirs).status_code == 200
    assert client.post("/api/v1/work-items/999999/claim", headers=theirs).status_code == 404
    missing = client.post("/api/v1/work-items/999999/attempts", headers=theirs, json={"outcome": "no_answer"})
    assert missing.status_code == 404


def test_record_attempts(client, api_token, queue):
    headers, user = api_token("tracer")
    other, _ = api_token("tracer")
    item_id = client.post("/api/v1/queue/claim", headers=headers).json["work_item"]["id"]
    url = f"/api/v1/work-items/{item_id}/attempts"
    assert client.post(url, headers=other, json={"outcome": "reached"}).status_code == 409
    bad = client.post(url, headers=headers, json={"outcome": "snoozed"})
    assert bad.status_code == 422 and "outcome" in bad.json["errors"]
    no_time = client.post(url, headers=headers, json={"outcome": "callback_requested"})
    assert no_time.status_code == 422 and "callback_at" in no_time.json["errors"]
    bad_time = client.post(url, headers=headers, json={"outcome": "callback_requested", "callback_at": "tomorrow"})
    assert bad_time.status_code == 422
    ok = client.post(url, headers=headers, json={"outcome": "no_answer", "notes": "Rang out"})
    assert ok.status_code == 201
    assert ok.json["attempt"]["outcome"] == "no_answer" and ok.json["attempt"]["tracer_id"] == user["id"]
    assert ok.json["work_item"] == {"id": item_id, "status": "open", "due_at": "2026-11-23T12:00:00+00:00",
                                    "attempts": 1}
    assert client.post(url, headers=headers, json={"outcome": "reached"}).status_code == 409  # no longer held


def test_callback_via_api(client, api_token, queue):
    headers, user = api_token("tracer")
    item_id = client.post("/api/v1/queue/claim", headers=headers).json["work_item"]["id"]
    response = client.post(f"/api/v1/work-items/{item_id}/attempts", headers=headers,
                           json={"outcome": "callback_requested", "callback_at": "2026-11-23T15:30:00Z"})
    assert response.status_code == 201
    assert response.json["work_item"]["status"] == "done"
    assert response.json["callback_item"]["kind"] == "callback"
    assert response.json["callback_item"]["assignee_id"] == user["id"]


def test_escalations_list(client, api_token, queue):
    supervisor, _ = api_token("supervisor")
    tracer, _ = api_token("tracer")
    response = client.get("/api/v1/escalations?status=open", headers=supervisor)
    assert response.status_code == 200
    (escalation,) = response.json
    assert escalation["person_id"] == queue["nophone_person"] and escalation["reason"] == "no_phone"
    assert set(escalation) >= {"id", "person_id", "reason", "status", "created_at"}
    assert client.get("/api/v1/escalations?status=resolved", headers=supervisor).json == []
    assert client.get("/api/v1/escalations", headers=tracer).status_code == 403


def test_reporting_role_cannot_work_the_queue(client, api_token, queue):
    headers, _ = api_token("reporting")
    assert client.post("/api/v1/queue/claim", headers=headers).status_code == 403


def test_later_than_lease_the_item_can_be_claimed_by_another(client, api_token, queue, daytime):
    mine, _ = api_token("tracer")
    theirs, _ = api_token("supervisor")
    item_id = client.post("/api/v1/queue/claim", headers=mine).json["work_item"]["id"]
    daytime.shift(timedelta(minutes=21))
    assert client.post(f"/api/v1/work-items/{item_id}/claim", headers=theirs).status_code == 200
    late = client.post(f"/api/v1/work-items/{item_id}/attempts", headers=mine, json={"outcome": "reached"})
    assert late.status_code == 409


def test_one_outcome_for_everyone_on_the_call(client, api_token, ctx, daytime):
    with ctx():
        case = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        for n in (2, 3):
            add_contact(None, case, person_data(n, phone="07700 900001", address=f"{n} Elsewhere",
                                                postcode="S10 2TN"), relationship="close", last_exposure_date=today())
        db.session.flush()
    headers, user = api_token("tracer")
    other, _ = api_token("tracer")
    claim = client.post("/api/v1/queue/claim", headers=headers).json
    items = [{"id": i["id"], "claim_token": i["claim_token"]} for i in [claim["work_item"], *claim["also_claimed"]]]
    assert len(items) == 3
    url = "/api/v1/calls/attempts"
    bad = client.post(url, headers=headers, json={"items": [{"id": 999999}, {"claim_token": "x"}], "outcome": "nap"})
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"outcome", "items.0.id", "items.1.id"}
    assert bad.json["errors"]["items.0.id"] == ["There is no work item with this id"]
    assert client.post(url, headers=headers, json={"items": [], "outcome": "reached"}).status_code == 422
    late = client.post(url, headers=headers, json={"items": items, "outcome": "callback_requested",
                                                   "callback_at": "2026-11-23T09:00:00+00:00"})
    assert late.status_code == 422 and "callback_at" in late.json["errors"]
    assert client.post(url, headers=other, json={"items": items, "outcome": "reached"}).status_code == 409
    stale = [*items[:2], {**items[2], "claim_token": "stale"}]
    assert client.post(url, headers=headers, json={"items": stale, "outcome": "reached"}).status_code == 409
    ok = client.post(url, headers=headers, json={"items": items, "outcome": "voicemail", "notes": "Left a message"})
    assert ok.status_code == 201
    assert sorted(a["work_item"]["id"] for a in ok.json["attempts"]) == sorted(i["id"] for i in items)
    assert {(a["attempt"]["outcome"], a["attempt"]["tracer_id"], a["work_item"]["status"], a["work_item"]["attempts"])
            for a in ok.json["attempts"]} == {("voicemail", user["id"], "open", 1)}
    assert client.post(url, headers=headers, json={"items": items, "outcome": "reached"}).status_code == 409
