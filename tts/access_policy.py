"""Who may use each route: one declared table for every view and API endpoint.

Each route's own guard (`require(...)` on views, `api_require(...)` on the API, the Twilio signature on
webhooks) enforces it; `tests/test_access_policy.py` proves every guard matches this table for every role,
and fails when a route is missing from it. At run time a route missing from the table is refused for
everyone (default deny), so a new route can never ship unguarded.

Audiences: the four roles, plus "field" (a tracer marked as a field officer, who makes doorstep visits).
Record-level rules (a tracer sees only people on their own work; a field officer only visits assigned to
them) are checked inside the views and services on top of this table (tts/people/access.py).
"""
import logging

from flask import Flask, abort, request

from tts.permissions import PERMISSIONS, Role

log = logging.getLogger(__name__)

PUBLIC = "public"  # no sign-in: the sign-in pages, static files, the API description
TWILIO = "twilio"  # no sign-in, but Twilio's request signature is required
AUDIENCES = ("tracer", "field", "supervisor", "reporting", "admin")
STAFF = frozenset(AUDIENCES)


def holders(permission: str) -> frozenset[str]:
    roles = {role.value for role, perms in PERMISSIONS.items() if permission in perms}
    if Role.TRACER.value in roles:
        roles.add("field")
    return frozenset(roles)


FIELD_OFFICERS = frozenset({"field"})

ROUTES: dict[str, frozenset[str] | str] = {
    # Signing in and out, your own account
    "auth.login": PUBLIC,
    "auth.login_code": PUBLIC,
    "auth.enrol": PUBLIC,
    "auth.logout": STAFF,
    "auth.home": STAFF,
    "auth.account": STAFF,
    "auth.password_change": STAFF,
    "auth.recovery_codes": STAFF,
    "auth.session_extend": STAFF,
    "auth.session_status": STAFF,
    "static": PUBLIC,
    "about.accessibility": PUBLIC,
    "govuk_assets": PUBLIC,
    # Administration
    "auth.users": holders("user.manage"),
    "auth.user_new": holders("user.manage"),
    "auth.user_edit": holders("user.manage"),
    "auth.reset_mfa": holders("user.manage"),
    "auth.tokens": holders("user.manage"),
    "auth.revoke_token": holders("user.manage"),
    "policies.index": holders("policy.manage"),
    "telephony.templates": holders("template.manage"),
    "telephony.template_edit": holders("template.manage"),
    "telephony.template_preview": holders("template.manage"),
    "audit.index": holders("audit.view"),
    # Cases, people, contacts
    "cases.index": holders("case.view"),
    "cases.show": holders("case.view"),
    "cases.new": holders("case.create"),
    "cases.contact_new": holders("case.create"),
    "people.show": holders("person.view"),
    "people.edit": holders("person.update"),
    "people.search": holders("person.search"),
    # The call queue and calls
    "callqueue.my_work": holders("queue.work"),
    "callqueue.next_item": holders("queue.work"),
    "callqueue.call": holders("queue.work"),
    "callqueue.claim": holders("queue.work"),
    "callqueue.record": holders("queue.work"),
    "callqueue.record_for_call": holders("queue.work"),
    "callqueue.release": holders("queue.work"),
    "callqueue.heartbeat": holders("queue.work"),
    "callqueue.shift": holders("queue.work"),
    "telephony.call_person": holders("queue.work"),
    "telephony.simulate_reply": holders("queue.work"),
    "telephony.simulate_status": holders("queue.work"),
    "telephony.unmatched": holders("escalation.view"),
    # Supervision, escalations, doorstep visits, support
    "supervision.dashboard": holders("supervise"),
    "supervision.panel": holders("supervise"),
    "supervision.queue": holders("supervise"),
    "supervision.reassign": holders("supervise"),
    "escalation.index": holders("escalation.view"),
    "escalation.assign": holders("escalation.view"),
    "escalation.close": holders("escalation.view"),
    "escalation.visits": FIELD_OFFICERS,
    "escalation.visit": STAFF,  # then: escalation.view, or the field officer the visit is assigned to
    "support.create": holders("support.create"),
    "support.queue": holders("support.manage"),
    "support.update": holders("support.manage"),
    # Reports and imports
    "reports.kpis": holders("reports.view"),
    "reports.publication": holders("reports.view"),
    "reports.exports": holders("reports.export"),
    "reports.download": holders("reports.export"),  # identifiable columns also need the per-user grant
    "reports.start_export_job": holders("reports.export"),
    "reports.export_job": holders("reports.export"),  # and only the person who asked: others get 404
    "reports.export_job_progress": holders("reports.export"),
    "reports.export_job_file": holders("reports.export"),
    "reports.delete_export_file": holders("reports.export"),
    "simulation.planner": holders("reports.view"),
    "simulation.show": holders("reports.view"),
    "simulation.progress": holders("reports.view"),
    "imports.index": holders("import.run"),
    "imports.show": holders("import.run"),
    "imports.progress": holders("import.run"),
    "imports.template": holders("import.run"),
    # Twilio's callbacks
    "twilio_webhooks.sms_status": TWILIO,
    "twilio_webhooks.sms_inbound": TWILIO,
    "twilio_webhooks.voice_status": TWILIO,
    "twilio_webhooks.voice_bridge": TWILIO,
    # The API (bearer tokens carry their user's role)
    "api.openapi": PUBLIC,
    "api_docs": STAFF,
    "api.create_case_endpoint": holders("case.create"),
    "api.create_contact_endpoint": holders("case.create"),
    "api.get_case": holders("case.view"),
    "api.get_person": holders("person.view"),
    "api.person_messages_endpoint": holders("person.view"),
    "api.queue_claim": holders("queue.work"),
    "api.work_item_claim": holders("queue.work"),
    "api.work_item_release": holders("queue.work"),
    "api.work_item_attempt": holders("queue.work"),
    "api.call_attempt": holders("queue.work"),
    "api.escalations": holders("escalation.view"),
    "api.visit": STAFF,  # then: escalation.view, or the assigned field officer
    "api.reassign": holders("supervise"),
    "api.create_support": holders("support.create"),
    "api.update_support": holders("support.manage"),
    "api.kpis_api": holders("reports.view"),
    "api.export_api": holders("reports.export"),
    "api.start_export_job_api": holders("reports.export"),
    "api.export_job_api": holders("reports.export"),  # only the token's own user's jobs
    "api.export_job_file_api": holders("reports.export"),
    "api.delete_export_file_api": holders("reports.export"),
    "api.import_api": holders("import.run"),
    "api.import_status": holders("import.run"),
}


# Record-level rules: every route that takes a record's id names the rule that decides, for that record,
# whether the caller may act on it. The web page and the API operation that do the same thing name the same
# rule, and both call the same function to apply it. tests/test_access_policy.py fails when an id-taking route
# is missing here, and proves each rule that restricts tracers against real records of someone else's.
OWN_PERSON = "own_person"  # tts.people.access.person_or_403: the person is on the caller's work (or found)
OWN_CASE = "own_case"  # tts.people.access.case_or_403: the case is the caller's or its person is on their work
WORK_ITEM = "work_item"  # tts.callqueue.services: the shared queue's claim rules (a tracer claims any waiting
#                          item not assigned to someone else; outcomes and releases need the caller's claim)
VISIT = "visit"  # tts.people.access.may_record_visit: the local team, or the field officer assigned
OWN_JOB = "own_job"  # an export job: only the person who asked (others get 404)
ROLE = "role"  # the role's permission is the whole rule: admin records, the team's shared queues and imports

RECORD_RULES: dict[str, str] = {
    "auth.user_edit": ROLE, "auth.tokens": ROLE, "auth.revoke_token": ROLE, "auth.reset_mfa": ROLE,
    "telephony.template_edit": ROLE,
    "cases.show": OWN_CASE, "cases.contact_new": OWN_CASE,
    "api.get_case": OWN_CASE, "api.create_contact_endpoint": OWN_CASE,
    "people.show": OWN_PERSON, "people.edit": OWN_PERSON,
    "api.get_person": OWN_PERSON, "api.person_messages_endpoint": OWN_PERSON,
    "support.create": OWN_PERSON, "api.create_support": OWN_PERSON,
    "telephony.simulate_reply": OWN_PERSON, "telephony.simulate_status": OWN_PERSON,
    "callqueue.call": WORK_ITEM, "callqueue.claim": WORK_ITEM, "callqueue.release": WORK_ITEM,
    "callqueue.record": WORK_ITEM, "callqueue.record_for_call": WORK_ITEM, "telephony.call_person": WORK_ITEM,
    "api.work_item_claim": WORK_ITEM, "api.work_item_release": WORK_ITEM, "api.work_item_attempt": WORK_ITEM,
    "escalation.visit": VISIT, "api.visit": VISIT,
    "escalation.assign": ROLE, "escalation.close": ROLE,
    "support.update": ROLE, "api.update_support": ROLE,
    "imports.show": ROLE, "imports.progress": ROLE, "api.import_status": ROLE,
    "simulation.show": ROLE, "simulation.progress": ROLE,
    "reports.export_job": OWN_JOB, "reports.export_job_progress": OWN_JOB, "reports.export_job_file": OWN_JOB,
    "reports.delete_export_file": OWN_JOB, "api.export_job_api": OWN_JOB, "api.export_job_file_api": OWN_JOB,
    "api.delete_export_file_api": OWN_JOB,
}


def init_app(app: Flask) -> None:
    @app.before_request
    def _default_deny():
        endpoint = request.endpoint
        if endpoint is not None and endpoint not in ROUTES:
            log.error("route %s is missing from the access policy table: refused", endpoint)
            abort(403)
