"""API v1 for cases, contacts and people: 201/200 shapes, 401, 403, 404 and 422 with field errors."""
from datetime import timedelta

from sqlalchemy import func, select

from tts.clock import today
from tts.extensions import db
from tts.people.models import Person

D = timedelta(days=1)


def case_body(**person_overrides):
    person = {"first_name": "Ione", "last_name": "Sallow", "date_of_birth": "1988-04-12", "phone": "07700 900321",
              "email": "ione@example.org", "address": "22 Pretend Place, Sheffield", "postcode": "s11 8ya"}
    person.update(person_overrides)
    return {"person": person, "test_date": (today() - D).isoformat(),
            "symptom_onset_date": (today() - 2 * D).isoformat()}


def test_create_case_answers_201_with_normalised_person(client, api_token):
    headers, _ = api_token("tracer")
    response = client.post("/api/v1/cases", json=case_body(), headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["reference"].startswith("TTS-") and body["status"] == "open" and body["source"] == "api"
    assert body["isolation_end_date"] == (today() + 8 * D).isoformat()
    assert body["person"]["phone"] == "+447700900321" and body["person"]["postcode"] == "S11 8YA"
    assert body["contacts"] == []
    fetched = client.get(f"/api/v1/cases/{body['id']}", headers=headers)
    assert fetched.status_code == 200 and fetched.json["reference"] == body["reference"]


def test_asymptomatic_case_with_null_onset(client, api_token):
    headers, _ = api_token("tracer")
    body = case_body()
    body["symptom_onset_date"] = None
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201
    assert response.json["isolation_end_date"] == (today() + 9 * D).isoformat()


def test_field_errors_answer_422_and_nothing_is_saved(app, client, api_token):
    headers, _ = api_token("tracer")
    body = case_body(phone="12345", postcode="nowhere", date_of_birth="1988-13-01")
    body["test_date"] = (today() + D).isoformat()
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {"person.phone", "person.postcode", "person.date_of_birth", "test_date"}
    assert "07700 900123" in errors["person.phone"][0]
    assert errors["person.date_of_birth"] == ["Use a real date in the form YYYY-MM-DD"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_non_json_body_is_422(client, api_token):
    headers, _ = api_token("tracer")
    response = client.post("/api/v1/cases", data="nope", headers=headers)
    assert response.status_code == 422 and "body" in response.json["errors"]


def test_missing_bad_or_expired_token_is_401(app, client, api_token):
    assert client.post("/api/v1/cases", json=case_body()).status_code == 401
    assert client.get("/api/v1/cases/1", headers={"Authorization": "Bearer tts_not-a-token"}).status_code == 401
    headers, _ = api_token("tracer")
    from tts.auth.models import ApiToken
    from tts.clock import utcnow

    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        token.expires_at = utcnow() - D
        db.session.commit()
    assert client.get("/api/v1/cases/1", headers=headers).status_code == 401


def test_roles_that_may_not_get_403(client, api_token):
    for role in ("reporting", "admin"):
        headers, _ = api_token(role)
        assert client.post("/api/v1/cases", json=case_body(), headers=headers).status_code == 403
        assert client.get("/api/v1/people/1", headers=headers).status_code == 403


def test_session_cookie_does_not_authenticate_the_api(tracer_client):
    assert tracer_client.post("/api/v1/cases", json=case_body()).status_code == 401


def test_add_contacts_household_and_close(client, api_token):
    headers, _ = api_token("supervisor")
    case = client.post("/api/v1/cases", json=case_body(), headers=headers).json
    household = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=headers, json={
        "person": {"first_name": "Finn", "last_name": "Sallow", "phone": "+44 7700 900322"},
        "relationship": "household", "last_exposure_date": today().isoformat()})
    assert household.status_code == 201, household.json
    assert household.json["household_id"] == case["person"]["household_id"] is not None
    assert household.json["quarantine_end_date"] == (today() + 14 * D).isoformat()
    close = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=headers, json={
        "person": {"first_name": "Gale", "last_name": "Thimble", "phone": "0114 496 0999"},
        "relationship": "close", "last_exposure_date": (today() - D).isoformat()})
    assert close.status_code == 201 and close.json["household_id"] is None
    assert set(close.json) >= {"id", "person_id", "relationship", "quarantine_end_date", "household_id"}
    full = client.get(f"/api/v1/cases/{case['id']}", headers=headers).json
    assert [c["relationship"] for c in full["contacts"]] == ["household", "close"]
    person = client.get(f"/api/v1/people/{household.json['person_id']}", headers=headers).json
    assert person["contact_records"][0]["case_id"] == case["id"] and person["cases"] == []


def test_contact_errors_are_422(client, api_token):
    headers, _ = api_token("tracer")
    case = client.post("/api/v1/cases", json=case_body(), headers=headers).json
    response = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=headers, json={
        "person": {"first_name": "", "last_name": "Thimble", "phone": "999"},
        "relationship": "pal", "last_exposure_date": (today() - 30 * D).isoformat()})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"person.first_name", "person.phone", "relationship", "last_exposure_date"}
    assert client.post("/api/v1/cases/999999/contacts", headers=headers, json={}).status_code == 404


def test_a_tokens_last_use_is_kept_to_the_minute(client, api_token, ctx):
    from tts.auth.models import ApiToken

    headers, user = api_token("tracer")

    def last_used():
        with ctx():
            return db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user["id"]))

    assert last_used() is None
    case_id = client.post("/api/v1/cases", json=case_body(), headers=headers).json["id"]
    first = last_used()
    assert first is not None
    client.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert last_used() == first  # a second call within the minute writes nothing
    with ctx():
        db.session.execute(ApiToken.__table__.update().where(ApiToken.user_id == user["id"])
                           .values(last_used_at=first - timedelta(minutes=2)))
        db.session.commit()
    client.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert last_used() > first


def test_a_request_that_reads_only_or_is_refused_still_counts_as_a_use(client, api_token, ctx):
    # Such requests commit nothing of their own: the "last used" write is committed on its own, before them.
    from tts.auth.models import ApiToken

    headers, user = api_token("tracer")

    def last_used():
        with ctx():
            return db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user["id"]))

    assert client.get("/api/v1/escalations", headers=headers).status_code == 403  # a tracer may not list them
    first = last_used()
    assert first is not None
    with ctx():
        db.session.execute(ApiToken.__table__.update().where(ApiToken.user_id == user["id"])
                           .values(last_used_at=first - timedelta(minutes=2)))
        db.session.commit()
    assert client.get("/api/v1/people/999999", headers=headers).status_code == 404
    assert last_used() > first - timedelta(minutes=1)


def test_closing_and_reopening_through_the_api(app, client, api_token, daytime):
    from tts.callqueue.models import WorkItem
    from tts.extensions import db

    tracer, _ = api_token("tracer")
    supervisor, _ = api_token("supervisor")
    case = client.post("/api/v1/cases", headers=tracer, json={
        "person": {"first_name": "Tamsin", "last_name": "Orrell", "date_of_birth": "1991-02-03",
                   "phone": "07700 900551", "address": "5 Api Avenue", "postcode": "S1 2HH"},
        "test_date": "2026-11-22"}).json
    contact = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=tracer, json={
        "person": {"first_name": "Ned", "last_name": "Orrell", "phone": "07700 900552"},
        "relationship": "household", "last_exposure_date": "2026-11-22"}).json
    missing = client.post(f"/api/v1/cases/{case['id']}/close", headers=tracer, json={"notes": "x"})
    assert missing.status_code == 422 and set(missing.json["errors"]) == {"reason"}
    other = client.post(f"/api/v1/cases/{case['id']}/close", headers=tracer, json={"reason": "other"})
    assert other.status_code == 422 and set(other.json["errors"]) == {"notes"}
    closed = client.post(f"/api/v1/contacts/{contact['id']}/close", headers=tracer, json={"reason": "moved_away"})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert closed.json["closure_reason"] == "moved_away" and closed.json["closed_at"]
    closed = client.post(f"/api/v1/cases/{case['id']}/close", headers=tracer,
                         json={"reason": "other", "notes": "Tested again elsewhere"})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert closed.json["closure_reason"] == "other" and closed.json["closure_notes"] == "Tested again elsewhere"
    assert client.post("/api/v1/queue/claim", headers=tracer).status_code == 204  # nothing of theirs
    with app.app_context():
        assert {i.status for i in db.session.query(WorkItem).filter(WorkItem.case_id == case["id"])} == {"cancelled"}
    assert client.post(f"/api/v1/cases/{case['id']}/close", headers=tracer,
                       json={"reason": "refused"}).status_code == 422  # already closed
    assert client.post(f"/api/v1/cases/{case['id']}/reopen", headers=tracer).status_code == 403
    reopened = client.post(f"/api/v1/cases/{case['id']}/reopen", headers=supervisor)
    assert reopened.status_code == 200 and reopened.json["status"] == "open" and reopened.json["closure_reason"] is None
    assert client.post(f"/api/v1/cases/{case['id']}/reopen", headers=supervisor).status_code == 422
    assert client.post("/api/v1/queue/claim", headers=tracer).status_code == 200  # its first call is back


def test_a_contact_becomes_a_case_through_the_api(app, client, api_token, daytime):
    tracer, _ = api_token("tracer")
    case = client.post("/api/v1/cases", headers=tracer, json={
        "person": {"first_name": "Wren", "last_name": "Halloway", "date_of_birth": "1985-07-08",
                   "phone": "07700 900561", "address": "6 Api Avenue", "postcode": "S1 2HH"},
        "test_date": "2026-11-21"}).json
    contact = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=tracer, json={
        "person": {"first_name": "Sable", "last_name": "Halloway", "phone": "07700 900562"},
        "relationship": "close", "last_exposure_date": "2026-11-21"}).json
    refused = client.post(f"/api/v1/contacts/{contact['id']}/convert", headers=tracer, json={})
    assert refused.status_code == 422 and "test_date" in refused.json["errors"]
    assert "person.date_of_birth" in refused.json["errors"]  # a case needs what the contact lacks
    converted = client.post(f"/api/v1/contacts/{contact['id']}/convert", headers=tracer, json={
        "test_date": "2026-11-23", "person": {"date_of_birth": "1990-01-02", "address": "7 Api Avenue",
                                              "postcode": "S1 2HJ"}})
    assert converted.status_code == 201 and converted.json["exposed_by_case_id"] == case["id"]
    assert converted.json["person"]["id"] == contact["person_id"]
    source = client.get(f"/api/v1/cases/{case['id']}", headers=tracer).json
    shown = next(c for c in source["contacts"] if c["id"] == contact["id"])
    assert shown["status"] == "became_case" and shown["became_case_id"] == converted.json["id"]


def test_a_second_case_for_someone_with_a_current_one_is_409_unless_a_new_episode(app, client, api_token, daytime):
    tracer, _ = api_token("tracer")
    body = {"person": {"first_name": "Isolde", "last_name": "Farrant", "date_of_birth": "1979-03-04",
                       "phone": "07700 900571", "address": "8 Api Avenue", "postcode": "S1 2HH"},
            "test_date": "2026-11-22"}
    first = client.post("/api/v1/cases", headers=tracer, json=body)
    again = client.post("/api/v1/cases", headers=tracer, json=body)
    assert again.status_code == 409 and again.json["existing_case_id"] == first.json["id"]
    assert set(again.json["errors"]) == {"new_episode"}
    new = client.post("/api/v1/cases", headers=tracer, json={**body, "new_episode": True})
    assert new.status_code == 201 and new.json["person"]["id"] == first.json["person"]["id"]


def test_correcting_a_case_and_a_contact_through_the_api(app, client, api_token, daytime):
    tracer, _ = api_token("tracer")
    other, _ = api_token("tracer")
    case = client.post("/api/v1/cases", headers=tracer, json={
        "person": {"first_name": "Bryony", "last_name": "Tallis", "date_of_birth": "1970-05-06",
                   "phone": "07700 900581", "address": "9 Api Avenue", "postcode": "S1 2HH"},
        "test_date": "2026-11-22"}).json
    contact = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=tracer, json={
        "person": {"first_name": "Cass", "last_name": "Tallis", "phone": "07700 900582"},
        "relationship": "close", "last_exposure_date": "2026-11-22"}).json
    missing = client.patch(f"/api/v1/cases/{case['id']}", headers=tracer, json={"symptom_onset_date": "2026-11-20"})
    assert missing.status_code == 422 and set(missing.json["errors"]) == {"reason"}
    assert client.patch(f"/api/v1/cases/{case['id']}", headers=other,
                        json={"symptom_onset_date": "2026-11-20", "reason": "x"}).status_code == 403
    fixed = client.patch(f"/api/v1/cases/{case['id']}", headers=tracer,
                         json={"symptom_onset_date": "2026-11-20", "reason": "Told us on the call"})
    assert fixed.status_code == 200 and fixed.json["symptom_onset_date"] == "2026-11-20"
    assert fixed.json["isolation_end_date"] != case["isolation_end_date"]
    bad = client.patch(f"/api/v1/cases/{case['id']}", headers=tracer,
                       json={"person": {"phone": "12345"}, "reason": "New phone"})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"person.phone"}
    moved = client.patch(f"/api/v1/contacts/{contact['id']}", headers=tracer,
                         json={"last_exposure_date": "2026-11-23", "reason": "Saw them yesterday too"})
    assert moved.status_code == 200 and moved.json["last_exposure_date"] == "2026-11-23"
    assert moved.json["quarantine_end_date"] != contact["quarantine_end_date"]
