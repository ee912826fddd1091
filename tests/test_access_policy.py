"""Least privilege, proven: every route is in the declared policy table, and every role gets exactly what
the table says (allowed: neither 401 nor 403; refused: 403; anonymous: sent to sign in, or 401 on the API).
No route answers any of them with a server error."""
import pytest

from tests.conftest import sign_in
from tts.access_policy import AUDIENCES, METRICS, PUBLIC, ROUTES, TWILIO

FAKE_ID = 2_000_000_000  # a record that does not exist: allowed callers get 404, never anyone's data
ARGS = {"name": "contacts", "fmt": "csv", "filename": "tts.css", "path": "tts.css"}


def _routes(app):
    rules = []
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        values = {arg: ARGS.get(arg, FAKE_ID) for arg in rule.arguments}
        if rule.endpoint == "govuk_assets":
            values = {"filename": "images/favicon.ico"}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in methods:
            rules.append((rule.endpoint, method, url))
    # Sign-out last, so it does not end the session the other requests use.
    return sorted(rules, key=lambda r: (r[0] == "auth.logout", r[0], r[1]))


def test_every_route_is_in_the_policy_table(app):
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(ROUTES))
    assert missing == [], f"add these routes to tts/access_policy.py: {missing}"
    stale = sorted(set(ROUTES) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert stale == [], f"remove these from tts/access_policy.py: {stale}"


def test_a_route_missing_from_the_table_is_refused_at_run_time(app, tracer_client, monkeypatch):
    import tts.access_policy as policy

    assert tracer_client.get("/").status_code == 200
    monkeypatch.delitem(policy.ROUTES, "auth.home")
    assert tracer_client.get("/").status_code == 403


@pytest.fixture
def callers(app, make_user, api_token):
    """A signed-in browser and an API token for each audience."""
    clients, tokens = {}, {}
    for audience in AUDIENCES:
        role = "tracer" if audience == "field" else audience
        extra = {"is_field_officer": True} if audience == "field" else {}
        user = make_user(role, **extra)
        client = app.test_client()
        sign_in(client, user)
        clients[audience] = client
    for audience in AUDIENCES:
        headers, user = api_token("tracer" if audience == "field" else audience)
        if audience == "field":
            from tts.auth.models import User
            from tts.extensions import db

            with app.app_context():
                db.session.get(User, user["id"]).is_field_officer = True
                db.session.commit()
        tokens[audience] = headers
    return clients, tokens


def _call(client, method: str, url: str, headers=None):
    response = client.open(url, method=method, headers=headers or {}, data={} if method != "GET" else None)
    status, location = response.status_code, response.headers.get("Location", "")
    response.close()
    return status, location


def test_each_role_gets_exactly_what_the_table_says(app, callers, daytime):
    clients, tokens = callers
    anonymous = app.test_client()
    problems = []
    for endpoint, method, url in _routes(app):
        allowed = ROUTES[endpoint]
        api = endpoint.startswith("api.") and endpoint != "api.openapi"
        status, location = _call(anonymous, method, url)
        if status >= 500:
            problems.append(f"{method} {url} anonymous: {status}")
        if allowed == PUBLIC:
            if status in (401, 403) or "/login?" in location:
                problems.append(f"{method} {url} is public but anonymous got {status} {location}")
        elif allowed == TWILIO:
            if status != 403:
                problems.append(f"{method} {url} without Twilio's signature: {status}, wanted 403")
        elif allowed == METRICS:  # loopback may scrape; any other address, signed in or not, needs the token
            for who in (anonymous, *clients.values()):
                outside = who.open(url, method=method, environ_base={"REMOTE_ADDR": "203.0.113.9"})
                if outside.status_code != 403:
                    problems.append(f"{method} {url} from outside without the metrics token: {outside.status_code}")
                outside.close()
        elif api:
            if status != 401:
                problems.append(f"{method} {url} anonymous: {status}, wanted 401")
        elif not (status == 302 and location.startswith("/login")):
            problems.append(f"{method} {url} anonymous: {status} {location}, wanted a redirect to sign in")
        if allowed in (PUBLIC, TWILIO, METRICS):
            continue
        for audience in AUDIENCES:
            if api:
                status, location = _call(app.test_client(), method, url, tokens[audience])
            else:
                status, location = _call(clients[audience], method, url)
            if status >= 500:
                problems.append(f"{method} {url} {audience}: {status}")
            elif audience in allowed and (status in (401, 403) or (location.startswith("/login")
                                                                    and endpoint != "auth.logout")):
                problems.append(f"{method} {url} {audience}: {status}, but the table allows it")
            elif audience not in allowed and status != 403:
                problems.append(f"{method} {url} {audience}: {status}, but the table refuses it (wanted 403)")
    assert problems == [], "\n".join(problems)


# --- Record-level rules: every id-taking route, web and API, against real records of someone else's -------

ID_ARGS = ("person_id", "case_id", "item_id", "message_id", "escalation_id", "job_id", "link_id")


def test_every_id_taking_route_declares_its_record_rule(app):
    from tts.access_policy import RECORD_RULES

    taking = {rule.endpoint for rule in app.url_map.iter_rules()
              if any(arg.endswith("_id") for arg in rule.arguments)}
    assert sorted(taking - set(RECORD_RULES)) == [], "add these to RECORD_RULES in tts/access_policy.py"
    assert sorted(set(RECORD_RULES) - taking) == []


@pytest.fixture
def someone_elses_records(app, make_user):
    """Records that belong to other staff: a case logged by one tracer (its person, queue item, contact and
    texts), an escalation assigned to one field officer, an export job asked for by one analyst."""
    from datetime import date

    from sqlalchemy import select

    from tests.factories import person_data
    from tts.auth.models import User
    from tts.callqueue.models import WorkItem
    from tts.cases.services import add_contact, create_case
    from tts.clock import today
    from tts.escalation.services import assign_visit, open_escalation
    from tts.extensions import db
    from tts.reports.export_jobs import start_job
    from tts.reports.filters import Filters
    from tts.selfservice.models import SelfServiceLink
    from tts.telephony.models import Message

    owner, officer, analyst = make_user("tracer"), make_user("tracer", is_field_officer=True), make_user("reporting")
    with app.app_context():
        actor = db.session.get(User, owner["id"])
        case = create_case(actor, person_data(401, address="4 Owner Row"), test_date=today(),
                           symptom_onset_date=None)
        contact = add_contact(actor, case, person_data(402, address="4 Owner Row"), relationship="household",
                              last_exposure_date=today())
        db.session.flush()
        item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id))
        escalation = open_escalation(actor, item, "no_phone")
        assign_visit(None, escalation, db.session.get(User, officer["id"]))
        message = Message(person_id=case.person_id, direction="outbound", channel="sms", to_number="+447700900401",
                          body="Hello", status="sent", twilio_sid="SM" + "0" * 32)
        db.session.add(message)
        from tts.letters.services import make_letter

        letter, _ = make_letter(actor, case)
        job = start_job(db.session.get(User, analyst["id"]), "cases", "csv",
                        Filters(date(2026, 11, 1), date(2026, 11, 30)), False, 1)
        db.session.commit()
        ids = {"person_id": case.person_id, "case_id": case.id, "item_id": item.id, "message_id": message.id,
               "escalation_id": escalation.id, "job_id": job.id, "contact_id": contact.id, "letter_id": letter.id,
               "link_id": db.session.scalar(select(SelfServiceLink.id).where(SelfServiceLink.case_id == case.id))}
        names = (case.person.first_name + " " + case.person.last_name,)
    return ids, names, {"owner": owner, "officer": officer, "analyst": analyst}


def _state(app, ids) -> tuple:
    from sqlalchemy import func, select

    from tts.callqueue.models import WorkItem
    from tts.cases.models import Case, Contact
    from tts.extensions import db
    from tts.selfservice.models import SelfServiceLink
    from tts.support.models import SupportNeed
    from tts.telephony.models import Message

    with app.app_context():
        item = db.session.get(WorkItem, ids["item_id"])
        return (item.claimed_by_id, item.status, item.attempts, db.session.get(Case, ids["case_id"]).status,
                db.session.get(Contact, ids["contact_id"]).status,
                db.session.scalar(select(func.count()).select_from(Contact)),
                db.session.scalar(select(func.count()).select_from(SupportNeed)),
                db.session.scalar(select(func.count()).select_from(Message)),
                db.session.get(SelfServiceLink, ids["link_id"]).status)


def test_record_rules_refuse_other_staffs_records_on_the_web_and_the_api(app, make_user, api_token, daytime,
                                                                       someone_elses_records):
    """A tracer with no link to the case, a field officer the visit is not assigned to, and an analyst who did
    not ask for the export: each id-taking route that restricts records refuses them, web and API alike, shows
    nothing of the person, and changes nothing. The owners get through, so the refusals are the rule's."""
    from flask import url_for

    from tts.access_policy import OWN_CASE, OWN_CONTACT, OWN_JOB, OWN_LETTER, OWN_PERSON, RECORD_RULES, VISIT, WORK_ITEM

    ids, names, owners = someone_elses_records
    outsiders = {"tracer": make_user("tracer"), "field": make_user("tracer", is_field_officer=True),
                 "reporting": make_user("reporting")}
    clients, tokens = {}, {}
    for key, user in {**outsiders, **{f"owner_{k}": v for k, v in owners.items()}}.items():
        clients[key] = app.test_client()
        sign_in(clients[key], user)
    for key, role in (("tracer", "tracer"), ("reporting", "reporting")):
        tokens[key], _ = api_token(role)
    with app.app_context():
        from tts.auth.models import ApiToken, User
        from tts.auth.services import issue_api_token
        from tts.extensions import db

        for key, user in (("field", outsiders["field"]), ("owner_owner", owners["owner"]),
                          ("owner_officer", owners["officer"]), ("owner_analyst", owners["analyst"])):
            _, plain = issue_api_token(None, db.session.get(User, user["id"]))
            tokens[key] = {"Authorization": f"Bearer {plain}"}
        db.session.commit()
        assert ApiToken  # imported for the type only

    who = {OWN_PERSON: "tracer", OWN_CASE: "tracer", OWN_CONTACT: "tracer", WORK_ITEM: "tracer", VISIT: "field",
           OWN_JOB: "reporting", OWN_LETTER: "tracer"}
    owner_of = {OWN_PERSON: "owner_owner", OWN_CASE: "owner_owner", OWN_CONTACT: "owner_owner", VISIT: "owner_officer",
                OWN_JOB: "owner_analyst", OWN_LETTER: "owner_owner"}
    refused_with = {OWN_PERSON: {403}, OWN_CASE: {403}, OWN_CONTACT: {403}, VISIT: {403}, OWN_JOB: {404},
                    WORK_ITEM: {403, 404, 409}, OWN_LETTER: {403}}
    problems, probes = [], 0
    before = _state(app, ids)
    for rule in app.url_map.iter_rules():
        kind = RECORD_RULES.get(rule.endpoint)
        if kind not in who:
            continue
        values = {arg: ids[arg] for arg in rule.arguments}
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        api = rule.endpoint.startswith("api.")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            caller = who[kind]
            outcome = {"outcome": "no_answer"}  # a valid body, so only the record rule can refuse it
            if api:
                response = app.test_client().open(url, method=method, headers=tokens[caller], json=outcome)
            else:
                response = clients[caller].open(url, method=method, data=outcome)
            probes += 1
            body = response.get_data(as_text=True)
            status = response.status_code
            if kind == WORK_ITEM and not api and status == 302:
                # The web's claim-holder answer: a message on the next page, which shows nothing of the person
                # (the call screen itself refuses: 403); the state check below proves nothing changed.
                follow = clients[caller].get(response.headers["Location"])
                body, status = follow.get_data(as_text=True), (403 if follow.status_code in (200, 403) else 500)
            if status not in refused_with[kind]:
                problems.append(f"{method} {url} as an outsider ({caller}): {status}")
            if any(name in body for name in names):
                problems.append(f"{method} {url} showed the person's name to an outsider")
            if kind in owner_of and method == "GET":
                client = app.test_client() if api else clients[owner_of[kind]]
                owner_status = client.open(url, method=method, headers=tokens[owner_of[kind]] if api else {}).status_code
                if owner_status in (401, 403, 404):
                    problems.append(f"{method} {url} refused its owner too ({owner_status}): the test proves nothing")
    assert problems == [], "\n".join(problems)
    assert _state(app, ids) == before, "an outsider's request changed a record"
    assert probes >= 20
    print(f"\nrecord-level probes refused: {probes}")


def test_the_table_is_built_from_each_routes_own_declaration_and_printed(app):
    """The permission is written once, on the route: the table is what the guards declare, and `flask
    access-policy` prints it (a route declaring nothing is listed as refused)."""
    from tts.access_policy import RECORD_RULES, build
    from tts.permissions import declared

    routes, rules = build(app)
    assert routes == ROUTES and rules == RECORD_RULES
    assert declared(app.view_functions["cases.show"]).permissions == ("case.view",)
    assert RECORD_RULES["cases.show"] == "own_case" and ROUTES["escalation.visits"] == frozenset({"field", "supervisor"})
    output = app.test_cli_runner().invoke(args=["access-policy"]).output
    lines = {line.split()[0]: line for line in output.splitlines()[1:]}
    assert set(lines) == set(ROUTES)
    assert "tracer, field, supervisor" in lines["cases.show"] and "[own_case]" in lines["cases.show"]
    assert lines["auth.login"].split()[-1] == "public" and "twilio" in lines["twilio_webhooks.sms_status"]
