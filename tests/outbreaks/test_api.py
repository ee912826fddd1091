"""API v1 for settings and outbreaks: the contract's paths, fields and status codes, and who may use them."""
from datetime import timedelta

from sqlalchemy import select

from tests.api.test_cases_api import case_body
from tts.audit.models import AuditEvent
from tts.clock import today
from tts.extensions import db

D = timedelta(days=1)
HOME = {"name": "Ferncliffe Care Home", "kind": "care_home", "address": "3 Imaginary Lane, Sheffield",
        "postcode": "s11 8ya", "contact_name": "Morwenna Quillon", "contact_phone": "0114 496 0123",
        "contact_email": "manager@ferncliffe.example"}


def new_case(client, headers, n: int, days_ago: int = 1, **extra) -> dict:
    body = case_body(first_name=f"Ada{chr(97 + n)}", last_name=f"Kestrel{chr(97 + n)}", phone=f"07700 900{n:03d}",
                     address=f"{n} Pretend Place, Sheffield")
    body["test_date"] = (today() - days_ago * D).isoformat()
    body["symptom_onset_date"] = None
    response = client.post("/api/v1/cases", json=body | extra, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_settings_register_create_duplicate_search_and_field_errors(client, api_token):
    headers, _ = api_token("tracer")
    made = client.post("/api/v1/settings", json=HOME, headers=headers)
    assert made.status_code == 201, made.json
    assert made.json["id"] and made.json["postcode"] == "S11 8YA" and made.json["contact_phone"] == "+441144960123"
    again = client.post("/api/v1/settings", json=HOME | {"name": "  ferncliffe care-home ", "postcode": "S118YA"},
                        headers=headers)
    assert again.status_code == 409 and again.json["existing_setting_id"] == made.json["id"]
    bad = client.post("/api/v1/settings", json={"name": "", "kind": "castle", "postcode": "nowhere",
                                                "contact_email": "not-an-email", "contact_phone": "12"},
                      headers=headers)
    assert bad.status_code == 422
    assert {"name", "kind", "postcode", "contact_email", "contact_phone"} <= set(bad.json["errors"])
    by_name = client.get("/api/v1/settings?q=fernc", headers=headers)
    by_district = client.get("/api/v1/settings?q=S11", headers=headers)
    none = client.get("/api/v1/settings?q=Nowhere+School", headers=headers)
    assert [s["id"] for s in by_name.json] == [made.json["id"]] == [s["id"] for s in by_district.json]
    assert none.json == []


def test_second_care_home_case_opens_an_outbreak_with_chain_actions_and_status(client, api_token):
    tracer, _ = api_token("tracer")
    boss, _ = api_token("supervisor")
    setting = client.post("/api/v1/settings", json=HOME, headers=tracer).json
    first = new_case(client, tracer, 1, days_ago=3)
    linked = client.post(f"/api/v1/cases/{first['id']}/settings",
                         json={"setting_id": setting["id"], "last_attended": (today() - 4 * D).isoformat()},
                         headers=tracer)
    assert linked.status_code == 201 and linked.json["outbreak_id"] is None
    assert client.get("/api/v1/outbreaks", headers=boss).json == []
    second = new_case(client, tracer, 2, settings=[{"setting_id": setting["id"], "last_attended": None}])
    listed = client.get("/api/v1/outbreaks?status=open", headers=boss)
    assert listed.status_code == 200 and len(listed.json) == 1
    outbreak = listed.json[0]
    assert set(outbreak) >= {"id", "setting_id", "status", "case_ids", "opened_at"}
    assert outbreak["setting_id"] == setting["id"] and outbreak["status"] == "open"
    assert sorted(outbreak["case_ids"]) == sorted([first["id"], second["id"]])
    assert client.get("/api/v1/outbreaks?status=closed", headers=boss).json == []

    detail = client.get(f"/api/v1/outbreaks/{outbreak['id']}", headers=boss)
    assert detail.status_code == 200 and detail.json["chain"] == []
    assert {c["id"]: c["status"] for c in detail.json["cases"]} == {first["id"]: "open", second["id"]: "open"}
    assert [a["kind"] for a in detail.json["actions"]] == ["call_setting"] and detail.json["actions"][0]["band"] == 1
    work = client.get("/api/v1/outbreaks/work", headers=boss).json
    assert [(w["kind"], w["band"], w["outbreak_id"]) for w in work] == [("call_setting", 1, outbreak["id"])]

    added = client.post(f"/api/v1/outbreaks/{outbreak['id']}/actions",
                        json={"kind": "risk_assessment", "notes": "Two residents unwell", "due_date": None},
                        headers=boss)
    assert added.status_code == 201 and added.json["done"] is True
    todo = client.post(f"/api/v1/outbreaks/{outbreak['id']}/actions",
                       json={"kind": "testing_arranged", "notes": "Whole home", "due_date": (today() + D).isoformat()},
                       headers=boss)
    assert todo.status_code == 201 and todo.json["done"] is False
    wrong = client.post(f"/api/v1/outbreaks/{outbreak['id']}/actions", json={"kind": "party", "due_date": "soon"},
                        headers=boss)
    assert wrong.status_code == 422 and {"kind", "due_date"} <= set(wrong.json["errors"])

    patched = client.patch(f"/api/v1/outbreaks/{outbreak['id']}", json={"status": "monitoring", "reason": "Measures in"},
                           headers=boss)
    assert patched.status_code == 200 and patched.json["status"] == "monitoring"
    assert client.patch(f"/api/v1/outbreaks/{outbreak['id']}", json={"status": "monitoring", "reason": "x"},
                        headers=boss).status_code == 422
    assert client.patch(f"/api/v1/outbreaks/{outbreak['id']}", json={"status": "gone"},
                        headers=boss).status_code == 422
    closed = client.patch(f"/api/v1/outbreaks/{outbreak['id']}", json={"status": "closed", "reason": "28 quiet days"},
                          headers=boss)
    assert closed.status_code == 200 and closed.json["closed_at"]
    assert [o["id"] for o in client.get("/api/v1/outbreaks?status=closed", headers=boss).json] == [outbreak["id"]]


def test_the_chain_in_the_api_and_reads_are_audited(app, client, api_token):
    tracer, _ = api_token("tracer")
    boss, boss_user = api_token("supervisor")
    setting = client.post("/api/v1/settings", json=HOME | {"kind": "school", "name": "Pretend Primary"},
                          headers=tracer).json
    index = new_case(client, tracer, 3, days_ago=5, settings=[{"setting_id": setting["id"]}])
    contact = client.post(f"/api/v1/cases/{index['id']}/contacts", headers=tracer, json={
        "person": {"first_name": "Bram", "last_name": "Moorcroft", "phone": "07700 900444",
                   "address": "9 Pretend Place, Sheffield", "postcode": "S11 8YA"},
        "relationship": "close", "last_exposure_date": (today() - 4 * D).isoformat()}).json
    converted = client.post(f"/api/v1/contacts/{contact['id']}/convert", headers=tracer,
                            json={"test_date": (today() - D).isoformat(), "person": {"date_of_birth": "1990-01-02"}})
    assert converted.status_code == 201, converted.json
    linked = client.post(f"/api/v1/cases/{converted.json['id']}/settings", json={"setting_id": setting["id"]},
                         headers=tracer)
    assert linked.status_code == 201 and linked.json["outbreak_id"]
    detail = client.get(f"/api/v1/outbreaks/{linked.json['outbreak_id']}", headers=boss).json
    assert detail["chain"] == [{"from_case_id": index["id"], "to_case_id": converted.json["id"]}]
    assert detail["actions"][0]["band"] == 2  # a school, not a care home
    with app.app_context():
        viewed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbreak.view",
                                                            AuditEvent.actor_id == boss_user["id"]))
        assert viewed is not None and sorted(viewed.details["case_ids"]) == sorted([index["id"], converted.json["id"]])


def test_who_may_use_it_and_the_record_rule(client, api_token):
    tracer, _ = api_token("tracer")
    other, _ = api_token("tracer")
    reporting, _ = api_token("reporting")
    boss, _ = api_token("supervisor")
    setting = client.post("/api/v1/settings", json=HOME, headers=tracer).json
    mine = new_case(client, tracer, 4)
    # Another tracer may not link someone else's case; reporting staff may not see outbreaks or the register.
    assert client.post(f"/api/v1/cases/{mine['id']}/settings", json={"setting_id": setting["id"]},
                       headers=other).status_code == 403
    assert client.get("/api/v1/outbreaks", headers=tracer).status_code == 403
    assert client.get("/api/v1/settings", headers=reporting).status_code == 403
    assert client.post("/api/v1/outbreaks/1/actions", json={"kind": "visit"}, headers=tracer).status_code == 403
    missing = client.post(f"/api/v1/cases/{mine['id']}/settings", json={"setting_id": 999999}, headers=tracer)
    assert missing.status_code == 422 and "setting_id" in missing.json["errors"]
    refused = client.post("/api/v1/cases", headers=tracer, json=case_body(phone="07700 900555", last_name="Nettlefold")
                          | {"settings": [{"setting_id": 999999, "last_attended": "2099-01-01"}]})
    assert refused.status_code == 422
    assert {"settings.0.setting_id", "settings.0.last_attended"} <= set(refused.json["errors"])
    assert client.get("/api/v1/cases?q=Nettlefold", headers=boss).json["total"] == 0  # nothing half-written


def test_a_contact_is_linked_and_brings_the_setting_when_they_become_a_case(client, api_token):
    tracer, _ = api_token("tracer")
    boss, _ = api_token("supervisor")
    setting = client.post("/api/v1/settings", json=HOME | {"name": "Grindstone Gym", "kind": "other"},
                          headers=tracer).json
    index = new_case(client, tracer, 7, days_ago=4, settings=[{"setting_id": setting["id"]}])
    contact = client.post(f"/api/v1/cases/{index['id']}/contacts", headers=tracer, json={
        "person": {"first_name": "Jory", "last_name": "Thimble", "phone": "07700 900477", "date_of_birth": "1991-02-03",
                   "address": "7 Pretend Place, Sheffield", "postcode": "S11 8YA"},
        "relationship": "close", "last_exposure_date": (today() - 3 * D).isoformat()}).json
    linked = client.post(f"/api/v1/contacts/{contact['id']}/settings", json={"setting_id": setting["id"]},
                         headers=tracer)
    assert linked.status_code == 201 and linked.json["contact_id"] == contact["id"] and linked.json["outbreak_id"] is None
    assert client.get("/api/v1/outbreaks", headers=boss).json == []  # a contact is not a case
    converted = client.post(f"/api/v1/contacts/{contact['id']}/convert", headers=tracer,
                            json={"test_date": today().isoformat()})
    assert converted.status_code == 201
    outbreaks = client.get("/api/v1/outbreaks", headers=boss).json
    assert len(outbreaks) == 1 and sorted(outbreaks[0]["case_ids"]) == sorted([index["id"], converted.json["id"]])
