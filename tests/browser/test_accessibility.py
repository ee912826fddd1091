"""axe-core finds no WCAG 2.2 A/AA problem on any page, for every role, on the demo data set, including the
forms in their error state; and every page reflows at 320 CSS pixels without scrolling sideways.

The pages are not listed by hand: every GET route in the access policy table that a role may open and that
answers with a page is visited, so a new page is checked the day it is added (the test fails if a page has
no example address below)."""
import threading
from datetime import date

import pyotp
import pytest
import time_machine
from flask import url_for
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.browser.conftest import SCREENSHOTS, assert_accessible, open_from_menu
from tests.conftest import make_app
from tts.access_policy import PUBLIC, ROUTES
from tts.auth.models import User
from tts.auth.services import create_user, issue_api_token
from tts.callqueue.services import claim_next
from tts.cases.models import Case, Contact
from tts.demo import DEMO_PASSWORD, demo_totp_secret
from tts.extensions import db
from tts.imports.services import create_batch, run_import
from tts.telephony.models import MessageTemplate

pytestmark = pytest.mark.browser
DAY = "2026-11-23T10:00:00+00:00"  # a Monday morning, inside calling hours
DAY_DATE = date(2026, 11, 23)
LOGINS = {"tracer": "tracer@tts.example", "field": "field@tts.example", "supervisor": "supervisor@tts.example",
          "reporting": "reporting@tts.example", "admin": "admin@tts.example"}
# Routes that answer with something other than a page (files, fragments htmx swaps in, JSON).
NOT_PAGES = {"static", "govuk_assets", "favicon", "auth.session_status", "simulation.progress", "reports.download", "reports.publication",
             "imports.template", "imports.progress", "supervision.panel", "api.openapi",
             "reports.export_job_progress", "reports.export_job_file",
             "ops.healthz", "ops.readyz", "ops.metrics",  # for load balancers and Prometheus, not people
             "letters.pdf"}


@pytest.fixture(scope="module")
def demo(fresh_database_url):
    """The app with `flask demo load` data, a call in progress, a failed import and an API token."""
    with time_machine.travel(DAY, tick=True):
        app = make_app(fresh_database_url("a11y"), TTS_MFA_REPLAY_GUARD=False)
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            users = {role: db.session.scalar(select(User).where(User.email == email)) for role, email in LOGINS.items()}
            claim = claim_next(users["tracer"])
            field_claim = claim_next(users["field"])
            assert claim is not None and field_claim is not None
            bad = "first_name,last_name\nQuinn,\n"
            batch = run_import(users["admin"], create_batch(users["admin"], "referrals.csv", bad))
            issue_api_token(users["admin"], users["tracer"])
            from tts.simulation.services import create_run, run_pending_simulations

            planned = create_run(users["supervisor"], cases_per_day="4", contacts_per_case="2", tracers="1")
            db.session.commit()
            run_pending_simulations()
            from tts.reports.export_jobs import run_pending_export_jobs, start_job
            from tts.reports.filters import Filters

            jobs = {}
            for role in ("supervisor", "reporting", "admin"):  # each sees only their own job
                job = start_job(users[role], "cases", "xlsx", Filters(DAY_DATE, DAY_DATE), False, 1)
                db.session.commit()
                run_pending_export_jobs()
                jobs[role] = {"job_id": job.id}
            newcomer = create_user(None, email="newcomer@tts.example", name="Nell Newcomer", role="tracer",
                                   password=DEMO_PASSWORD)
            db.session.commit()
            case = db.session.scalar(select(Case).order_by(Case.id).limit(1))
            contact_of = lambda case_id: db.session.scalar(  # noqa: E731
                select(Contact.id).where(Contact.case_id == case_id).order_by(Contact.id).limit(1))
            field_case_id = field_claim.item.case_id or field_claim.item.contact.case_id
            if contact_of(field_case_id) is None:  # a contact record the field officer's work shows
                from tests.factories import person_data
                from tts.cases.services import add_contact

                add_contact(users["field"], db.session.get(Case, field_case_id),
                            person_data(77, address=None, postcode=None), relationship="household",
                            last_exposure_date=DAY_DATE)
                db.session.commit()
            ids = {"case_id": case.id, "person_id": case.person_id, "item_id": claim.item.id,
                   "claimed_name": claim.item.person.full_name,
                   "contact_id": contact_of(case.id),
                   "user_id": users["tracer"].id, "batch_id": batch.id, "newcomer": newcomer.email,
                   "template_id": db.session.scalar(select(MessageTemplate.id).limit(1)), "run_id": planned.id,
                   "field": {"item_id": field_claim.item.id, "person_id": field_claim.item.person_id,
                             "case_id": field_case_id,
                             "contact_id": field_claim.item.contact_id or contact_of(field_case_id)}}
            # Settings and outbreaks (the demo has a register, a care-home outbreak, a place to match) and a letter.
            from tts.letters.services import make_letter
            from tts.outbreaks.models import Outbreak, Setting, SettingMention

            ids["setting_id"] = db.session.scalar(select(Setting.id).order_by(Setting.id).limit(1))
            ids["outbreak_id"] = db.session.scalar(select(Outbreak.id).limit(1))
            ids["mention_id"] = db.session.scalar(select(SettingMention.id).limit(1))
            ids["letter_id"] = make_letter(users["tracer"], case)[0].id
            ids["kind"] = "outbreak_advice"
            ids["field"]["letter_id"] = make_letter(users["field"], db.session.get(Case, field_case_id))[0].id
            from tts.selfservice.links import issue_link

            _, ids["token"] = issue_link(None, case.person, case=case)  # the public self-service pages
            db.session.commit()
            for role, job in jobs.items():
                ids[role] = {**ids.get(role, {}), **job}
            ids["group"] = "follow-up"  # the navigation's groups: each role opens the ones it has
            ids["reporting"]["group"] = "reports"
            ids["admin"]["group"] = "admin"
            ids["tracer"] = {"group": None}
            ids["field"]["group"] = None
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield app, f"http://127.0.0.1:{server.server_port}", ids
        finally:
            server.shutdown()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def pages_for(app, audience: str | None, ids: dict) -> list[tuple[str, str]]:
    """(endpoint, path) of every page this audience may open (None: the public ones)."""
    found = []
    for rule in app.url_map.iter_rules():
        allowed = ROUTES[rule.endpoint]
        if rule.endpoint in NOT_PAGES or "GET" not in rule.methods or rule.endpoint.startswith(("twilio", "api.")):
            continue
        if (allowed == PUBLIC) != (audience is None) or (audience and audience not in allowed):
            continue
        if any(ids.get(arg, "") is None for arg in rule.arguments):
            continue  # no example for this audience (a page they cannot open)
        missing = [arg for arg in rule.arguments if arg not in ids]
        assert not missing, f"give {rule.endpoint} an example {missing} in this test"
        with app.test_request_context():
            found.append((rule.endpoint, url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments})))
    return sorted(found)


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(demo_totp_secret(email)).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture
def demo_page(browser, demo, request):
    app, base_url, ids = demo
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    shots = SCREENSHOTS / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    page.snap = lambda label: page.screenshot(path=str(shots / f"{label}.png"), full_page=True)
    with time_machine.travel(DAY, tick=True):
        yield page
    context.close()


def check_page(page, label: str) -> None:
    assert_accessible(page, label)
    page.snap(label.replace(" ", "-").replace("/", "-").strip("-"))
    assert_reflows(page, label)


def assert_reflows(page, label: str) -> None:
    """WCAG 1.4.10: at 320 CSS pixels wide nothing makes the page scroll sideways (a wide table may scroll
    inside its own focusable region, which is allowed)."""
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 800})
    # The browser tells the page it was resized at its next frame: wait two, so tts.js has made the tables that
    # now scroll into focusable regions before anything is checked (axe ran first on a loaded machine).
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    try:
        wide = page.evaluate("""() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return null;
          const culprits = [...document.querySelectorAll('body *')].filter(
            (el) => el.getBoundingClientRect().right > width + 1 && !el.closest('.tts-scroll'));
          return culprits.slice(-3).map((el) => el.tagName.toLowerCase() + '.' + [...el.classList].join('.')).join(', ');
        }""")
        assert wide is None, f"{label} ({page.url}) scrolls sideways at 320px: {wide}"
        assert_accessible(page, label + " at 320px")  # tables that now scroll are named, focusable regions
    finally:
        page.set_viewport_size(size)


@pytest.mark.parametrize("audience", ["tracer", "field", "supervisor", "reporting", "admin"])
def test_every_page_a_role_can_open_passes_axe(demo, demo_page, audience):
    app, _base, ids = demo
    page = demo_page
    sign_in(page, LOGINS[audience])
    pages = pages_for(app, audience, {**ids, **ids.get(audience, {})})
    assert len(pages) >= 5
    for endpoint, path in pages:
        response = page.goto(path)
        assert response.status < 400, f"{path} answered {response.status} for {audience}"
        check_page(page, f"{audience} {endpoint}")


def test_the_public_pages_pass_axe(demo, demo_page):
    app, _base, ids = demo
    page = demo_page
    for endpoint, path in pages_for(app, None, ids):
        if endpoint.startswith("auth.login_code") or endpoint == "auth.enrol":
            continue  # they need a password first: below
        page.goto(path)
        check_page(page, f"public {endpoint}")
    # The sign-in form in its error state, then the code page, the enrolment page and their error states.
    page.goto("/login")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_page(page, "login errors")
    page.get_by_label("Email address").fill(LOGINS["tracer"])
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    check_page(page, "login code")
    page.get_by_label("Code from your authenticator app").fill("12")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_page(page, "login code errors")

    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Email address").fill(ids["newcomer"])
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    check_page(page, "enrol")
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_page(page, "enrol errors")


def test_error_pages_pass_axe(demo, demo_page):
    page = demo_page
    sign_in(page, LOGINS["tracer"])
    for path, status in (("/no-such-page", 404), ("/admin/users", 403), ("/people/2000000000", 404)):
        assert page.goto(path).status == status
        check_page(page, f"error {status}")


# (role, page, what to type first as (label, value), the button, where the problem is shown): every form shows
# the GOV.UK error summary at the top (focused, each message linked to its field, in the fields' page order),
# including forms that sit in the rows of a table or in cards (their messages name the row).
ERROR_STATES = [
    ("tracer", "/cases/new", [], "Save case", "summary"),
    ("tracer", "/cases/{case_id}/contacts/new", [], "Add contact", "summary"),
    ("tracer", "/people/{person_id}/edit", [("Phone number", "12345")], "Save changes", "summary"),
    ("tracer", "/cases/{case_id}/contacts/list", [("First name of contact 1", "Kit")], "Save contacts", "summary"),
    ("tracer", "/cases/{case_id}/notes/new", [], "Save note", "summary"),
    ("supervisor", "/cases/", [("Search", "ab")], "Search", "summary"),
    ("tracer", "/queue/items/{item_id}", [], "Save outcome", "summary"),
    ("tracer", "/account", [("Your phone number", "12345")], "Save", "summary"),
    ("tracer", "/account/password", [], "Change password", "summary"),
    ("supervisor", "/supervise/queue", [], "Move selected", "summary"),
    ("supervisor", "/messages/unmatched", [], "Attach", "summary"),
    ("field", "/escalations/visits", [], "Record visit", "summary"),
    ("supervisor", "/escalations/", [], "Close", "summary"),
    ("supervisor", "/planner/", [("Positive cases expected each day", "lots"), ("Tracers on shift through the calling hours", "x")],
     "Run the simulation", "summary"),
    ("admin", "/admin/policies/", [("Cases isolate for this many full days after symptoms start (or the test)", "ten"),
                                   ("Contacts quarantine for this many days after last contact", "2.5")],
     "Save new version", "summary"),
    ("reporting", "/reports/", [("From (YYYY-MM-DD)", "2026-02-31")], "Show", "summary"),
    ("reporting", "/reports/exports", [("From (YYYY-MM-DD)", "not a date")], "Set dates", "summary"),
    ("admin", "/admin/users/new", [], "Create account", "summary"),
    ("admin", "/admin/users/{user_id}/tokens", [("Expires after (days)", "-3")], "Create a token", "summary"),
    ("admin", "/admin/templates/{template_id}", [("Message", "")], "Save", "summary"),
    ("admin", "/admin/policies/", [("Contacts quarantine for this many days after last contact", "0")],
     "Save new version", "summary"),
    ("admin", "/imports/", [], "Upload and import", "summary"),
    ("reporting", "/planner/", [("Tracers on shift through the calling hours", "0")], "Run the simulation", "summary"),
]


@pytest.mark.parametrize("audience", ["tracer", "supervisor", "field", "reporting", "admin"])
def test_forms_in_their_error_state_pass_axe(demo, demo_page, audience):
    _app, _base, ids = demo
    ids = {**ids, **ids.get(audience, {})}
    page = demo_page
    sign_in(page, LOGINS[audience])
    for role, path, typing, button, shown in ERROR_STATES:
        if role != audience:
            continue
        page.goto(path.format(**ids))
        for label, value in typing:
            page.get_by_label(label, exact=True).first.fill(value)
        page.get_by_role("button", name=button).first.click()
        problem = page.locator(".govuk-error-summary" if shown == "summary" else ".govuk-notification-banner")
        expect(problem).to_be_visible()
        expect(problem).to_be_focused()
        assert_summary_follows_the_page(page, path)
        check_page(page, f"{audience} errors {path.split('/')[1]} {button}")


def assert_summary_follows_the_page(page, path: str) -> None:
    """Each message links to a field that is on the page, in the order the fields are on the page, and is
    written for people (no framework's raw message)."""
    problem = page.evaluate("""() => {
      const links = [...document.querySelectorAll('.govuk-error-summary__list a')];
      if (!links.length) return 'the summary links to no field';
      const targets = links.map((a) => document.getElementById(decodeURIComponent(a.hash.slice(1))));
      const missing = links.filter((a, i) => !targets[i]).map((a) => a.hash);
      if (missing.length) return 'links to nothing: ' + missing.join(', ');
      for (let i = 1; i < targets.length; i++) {
        if (targets[i - 1] !== targets[i] &&
            targets[i - 1].compareDocumentPosition(targets[i]) & Node.DOCUMENT_POSITION_PRECEDING)
          return 'out of page order: ' + links[i - 1].hash + ' before ' + links[i].hash;
      }
      return null;
    }""")
    assert problem is None, f"{path}: {problem}"
    text = page.locator(".govuk-error-summary").inner_text()
    for raw in ("Not a valid", "This field is required", "Invalid ", "invalid literal"):
        assert raw not in text, f"{path}: a raw message in the summary: {text}"


TOUR = SCREENSHOTS / "tour"  # the README's tour: copy these to docs/screenshots/ when the pages change


def test_tour_of_the_app_for_the_readme(demo, demo_page):
    """A short walk through the demo data, saving the screenshots the README shows (each page also checked)."""
    _app, _base, ids = demo
    page = demo_page
    TOUR.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        assert_accessible(page, name)
        page.screenshot(path=str(TOUR / f"{name}.png"), full_page=True)

    sign_in(page, LOGINS["tracer"])
    page.get_by_role("link", name="My work").click()
    shot("1-my-work")
    page.locator(".tts-outcome-form, table a.govuk-link").first.wait_for(state="attached")
    name = ids["claimed_name"]  # the call already claimed in the fixture
    page.get_by_role("link", name=name).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Call {name}")
    shot("2-call-screen")
    page.get_by_label("Went to voicemail").first.check()
    page.get_by_role("button", name="Save outcome").first.click()
    expect(page.get_by_text(f"Call with {name} recorded: went to voicemail.")).to_be_visible()
    shot("3-after-the-call")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, LOGINS["supervisor"])
    page.get_by_role("link", name="Dashboard").click()
    shot("4-supervisor-dashboard")
    page.get_by_test_id("outbreaks-banner").get_by_role("link", name="Ferncliffe Care Home", exact=True).click()
    expect(page.get_by_test_id("chain-list")).to_contain_text("caught it from")
    shot("9-care-home-outbreak")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, LOGINS["field"])
    page.get_by_role("link", name="My visits").click()
    shot("5-field-officer-visits")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, LOGINS["reporting"])
    open_from_menu(page, "Reports", "How we are doing")
    shot("6-how-we-are-doing")
