"""Least privilege, proven: every route is in the declared policy table, and every role gets exactly what
the table says (allowed: neither 401 nor 403; refused: 403; anonymous: sent to sign in, or 401 on the API).
No route answers any of them with a server error."""
import pytest

from tests.conftest import sign_in
from tts.access_policy import AUDIENCES, PUBLIC, ROUTES, TWILIO

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
        elif api:
            if status != 401:
                problems.append(f"{method} {url} anonymous: {status}, wanted 401")
        elif not (status == 302 and location.startswith("/login")):
            problems.append(f"{method} {url} anonymous: {status} {location}, wanted a redirect to sign in")
        if allowed in (PUBLIC, TWILIO):
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
