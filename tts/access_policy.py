"""Who may use each route: the policy table, built from what each route's guard declares.

Each route declares its audience once, where its guard is (`require(...)` on views, `api_require(...)` on
the API, `public`, the Twilio signature on webhooks: tts/permissions.py, `Access`), and the guard enforces
it. This module builds the table from those declarations when the app is made (`ROUTES`, and the record
rules in `RECORD_RULES`); `flask access-policy` prints it. At run time a route that declared nothing is
refused for everyone (default deny), so a new route can never ship unguarded; tests/test_access_policy.py
proves every route answers each role exactly as the table says.

Audiences: the four roles, plus "field" (a tracer marked as a field officer, who makes doorstep visits).
Record-level rules (a tracer sees only people on their own work; a field officer only visits assigned to
them) are applied by the views and the API alike (tts/people/access.py), on top of the table.
"""
import logging

import click
from flask import Flask, abort, current_app, request
from flask.cli import with_appcontext

from tts.permissions import PERMISSIONS, Access, Role, declared

log = logging.getLogger(__name__)

PUBLIC = "public"  # no sign-in: the sign-in pages, static files, the API description
TWILIO = "twilio"  # no sign-in, but Twilio's request signature is required
METRICS = "metrics"  # no sign-in: the metrics token, or an address in TTS_METRICS_ALLOW (tts/ops/views.py)
AUDIENCES = ("tracer", "field", "supervisor", "reporting", "admin")
STAFF = frozenset(AUDIENCES)


def holders(permission: str) -> frozenset[str]:
    roles = {role.value for role, perms in PERMISSIONS.items() if permission in perms}
    if Role.TRACER.value in roles:
        roles.add("field")
    return frozenset(roles)


FIELD_OFFICERS = frozenset({"field"})

BUILT_IN = {"static": Access("public")}  # Flask's own static files route

# Record-level rules: every route that takes a record's id names the rule that decides, for that record,
# whether the caller may act on it. The web page and the API operation that do the same thing name the same
# rule, and both call the same function to apply it. tests/test_access_policy.py fails when an id-taking route
# is missing here, and proves each rule that restricts tracers against real records of someone else's.
OWN_PERSON = "own_person"  # tts.people.access.person_or_403: the person is on the caller's work (or found)
OWN_CASE = "own_case"  # tts.people.access.case_or_403: the case is the caller's or its person is on their work
OWN_CONTACT = "own_contact"  # tts.people.access.contact_or_403: its case is the caller's, or its person on their work
WORK_ITEM = "work_item"  # tts.callqueue.services: the shared queue's claim rules (a tracer claims any waiting
#                          item not assigned to someone else; outcomes and releases need the caller's claim)
VISIT = "visit"  # tts.people.access.may_record_visit: the local team, or the field officer assigned
OWN_LETTER = "own_letter"  # tts.letters.access.letter_or_403: the rule of the record it was made from (outbreak
#                            letters: supervisors)
OWN_JOB = "own_job"  # an export job: only the person who asked (others get 404)
ROLE = "role"  # the role's permission is the whole rule: admin records, the team's shared queues and imports

RULES = (OWN_PERSON, OWN_CASE, OWN_CONTACT, OWN_LETTER, WORK_ITEM, VISIT, OWN_JOB, ROLE)

# Built by `build` from the routes' declarations when the app is made: endpoint -> audience, and for each
# route taking a record's id, endpoint -> its record rule.
ROUTES: dict[str, frozenset[str] | str] = {}
RECORD_RULES: dict[str, str] = {}


def audience(access: Access) -> frozenset[str] | str:
    if access.kind in (PUBLIC, TWILIO, METRICS):
        return access.kind
    if access.kind == "field":
        return FIELD_OFFICERS | (holders(access.also) if access.also else frozenset())
    allowed = set(STAFF)
    for permission in access.permissions:
        allowed &= holders(permission)
    return frozenset(allowed)


def build(app: Flask) -> tuple[dict, dict]:
    """The table from the routes' declarations (routes that declared nothing are left out: refused)."""
    routes, rules = {}, {}
    for endpoint, view in app.view_functions.items():
        access = declared(view) or BUILT_IN.get(endpoint)
        if access is None:
            continue
        routes[endpoint] = audience(access)
        if access.record is not None:
            if access.record not in RULES:
                raise ValueError(f"{endpoint}: unknown record rule {access.record!r}")
            rules[endpoint] = access.record
    return routes, rules


def init_app(app: Flask) -> None:
    @app.before_request
    def _default_deny():
        endpoint = request.endpoint
        if endpoint is not None and endpoint not in ROUTES:
            log.error("route %s is missing from the access policy table: refused", endpoint)
            abort(403)
    routes, rules = build(app)
    ROUTES.clear()
    ROUTES.update(routes)
    RECORD_RULES.clear()
    RECORD_RULES.update(rules)
    app.cli.add_command(access_policy_command)


def _who(audience_: frozenset[str] | str) -> str:
    if isinstance(audience_, str):
        return audience_
    return ", ".join(a for a in AUDIENCES if a in audience_) or "nobody"


@click.command("access-policy")
@with_appcontext
def access_policy_command():
    """Print who may use each route (from the routes' own declarations), with its record rule."""
    rows = []
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        methods = ",".join(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        view = current_app.view_functions[rule.endpoint]
        access = declared(view) or BUILT_IN.get(rule.endpoint)
        who = _who(ROUTES[rule.endpoint]) if rule.endpoint in ROUTES else "REFUSED (declares nothing)"
        rows.append((rule.endpoint, methods, rule.rule, who, RECORD_RULES.get(rule.endpoint, ""),
                     access.note if access else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    click.echo(f"{'endpoint':<{widths[0]}}  {'methods':<{widths[1]}}  {'path':<{widths[2]}}  who  [record rule] note")
    for endpoint, methods, path, who, record, note in rows:
        extra = (f"  [{record}]" if record else "") + (f"  {note}" if note else "")
        click.echo(f"{endpoint:<{widths[0]}}  {methods:<{widths[1]}}  {path:<{widths[2]}}  {who}{extra}")
