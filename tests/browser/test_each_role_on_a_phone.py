"""Each role's day on any screen (issue "Each role's day"): where signing in lands each role, the navigation
folded behind a Menu button on a phone, and a field officer's tap-to-call and maps links. At 1280 and 390
pixels wide, with screenshots."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_from_menu, sign_in

pytestmark = pytest.mark.browser


def assigned_visit(live_app, n: int, first: str, surname: str, **person) -> int:
    """A case escalated after three failed calls, its visit given to the browser field officer: its id."""
    from sqlalchemy import select

    from tests.factories import person_data
    from tts.auth.models import User
    from tts.callqueue.models import WorkItem
    from tts.callqueue.services import escalate_item
    from tts.cases.services import create_case
    from tts.clock import today
    from tts.escalation.services import assign_visit
    from tts.extensions import db

    with live_app.app_context():
        officer = db.session.scalar(select(User).where(User.email == "field@browser.example"))
        case = create_case(None, person_data(n, first_name=first, last_name=surname, **person), test_date=today(),
                           symptom_onset_date=None)
        item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id))
        escalation = assign_visit(None, escalate_item(None, item, "attempts_exhausted"), officer)
        db.session.commit()
        return escalation.id


@pytest.mark.parametrize("role, lands_on, heading", [
    ("tracer", "/queue/", "My work"), ("supervisor", "/supervise/", None), ("reporting", "/reports/", None),
    ("admin", "/admin/users", None), ("field", "/escalations/visits", "My visits")])
def test_each_role_lands_on_its_own_work(page, live_server, role, lands_on, heading):
    sign_in(page, role)
    page.wait_for_url(live_server + lands_on)
    if heading:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.snap(f"{role}-lands-here")


def test_on_a_phone_the_navigation_folds_behind_a_menu_button(page):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "supervisor")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(page.locator("#navigation").get_by_role("link", name="Follow-up")).to_be_hidden()
    page.snap("phone-menu-closed-390")
    menu.click()
    expect(page.locator("#navigation").get_by_role("link", name="Follow-up")).to_be_visible()
    page.snap("phone-menu-open-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.locator("#navigation").get_by_role("link", name="Follow-up")).to_be_visible()
    page.snap("desktop-navigation-1280")


@pytest.mark.parametrize("width", [1280, 390])
def test_supervisors_see_every_officers_round_and_an_officer_taps_to_call(page, live_app, width):
    surname = "Doorstep" + ("ash" if width == 1280 else "oak")
    assigned_visit(live_app, 700 + width % 50, "Orla", surname, phone="07700 900777",
                   address=f"{width} Round Street, Sheffield", postcode="S6 3AB")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "supervisor")
    page.goto("/escalations/")
    page.get_by_role("link", name="See the doorstep visits waiting").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Doorstep visits")
    card = page.locator(".govuk-summary-card", has_text=surname)
    expect(card).to_contain_text("Browser Field")
    page.snap(f"supervisor-sees-every-round-{width}")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "field")
    card = page.locator(".govuk-summary-card", has_text=surname)
    expect(card.get_by_role("link", name="Call 07700 900777")).to_have_attribute("href", "tel:+447700900777")
    expect(card.get_by_role("link", name="Open S6 3AB in your maps")).to_have_attribute("href", "geo:0,0?q=S6%203AB")
    page.snap(f"field-officer-tap-to-call-and-maps-{width}")


def test_a_failed_search_says_what_to_try(page):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "tracer")
    page.goto("/search")
    page.get_by_label("Case reference").fill("TTS-ZZZZ9")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("search-suggestions")).to_contain_text("check the reference")
    page.snap("failed-search-suggestions-390")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_supervisor_opens_a_tracers_page_from_the_dashboard(page, live_app, width):
    """Item 7: clicking a tracer's name opens their day (calls, reach, held, shift, idle time), not a filter."""
    import time_machine
    from sqlalchemy import select

    from tests.browser.test_supervision_flow import DAY, fresh_queue
    from tts.auth.models import User
    from tts.callqueue.outcomes import record_attempt
    from tts.callqueue.services import claim_next
    from tts.extensions import db
    from tts.supervision.services import set_shift

    with time_machine.travel(DAY, tick=True):
        fresh_queue(live_app, [(760 + width % 7, "Tamsin", "Whitlam", "07700 900761", "S8 2AA"),
                               (770 + width % 7, "Ulric", "Yeadon", "07700 900762", "S8 2AB")])
        with live_app.app_context():
            tracer = db.session.scalar(select(User).where(User.email == "tracer3@browser.example"))
            tracer_id = tracer.id
            set_shift(tracer, True)
            claim = claim_next(tracer)
            record_attempt(tracer, claim.item, outcome="reached", claim_token=claim.item.claim_token)
            claim_next(tracer)  # the second, held now
            db.session.commit()
        try:
            _the_tracer_page(page, width)
        finally:
            with live_app.app_context():
                set_shift(db.session.get(User, tracer_id), False)  # other tests pick tracer3 by name
                db.session.commit()


def _the_tracer_page(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "supervisor")
    page.get_by_test_id("activity").get_by_role("link", name="Browser Tracer3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Browser Tracer3")
    expect(page.get_by_test_id("shift")).to_contain_text("On shift")
    expect(page.get_by_test_id("calls")).to_contain_text("Reached")
    expect(page.get_by_test_id("held-list")).to_contain_text("held until")
    expect(page.get_by_test_id("idle-time")).to_be_visible()
    page.snap(f"tracer-page-{width}")


def test_the_supervisors_navigation_is_grouped_and_wide_tables_stack_on_a_phone(page, live_app):
    """Item 6: eight links (Outbreaks is a supervisor's own), grouped pages behind Follow-up, Reports and
    Administration; on a phone the queue's rows become labelled blocks whose words never break letter by
    letter."""
    import time_machine

    from tests.browser.test_supervision_flow import DAY, fresh_queue

    with time_machine.travel(DAY, tick=True):
        fresh_queue(live_app, [(781, "Wilhelmina", "Staniforth-Rowbotham", "07700 900781", "S10 2AA")])
        sign_in(page, "supervisor")
        expect(page.locator("#navigation a")).to_have_text(
            ["Dashboard", "My work", "Cases", "Imports", "Outbreaks", "Follow-up", "Reports", "Audit log"])
        open_from_menu(page, "Follow-up", "Doorstep visits")
        expect(page.get_by_role("heading", level=1)).to_have_text("Doorstep visits")
        page.goto("/more/follow-up")
        page.snap("follow-up-group-1280")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/supervise/queue")
        cell = page.locator("td[data-label='Person']", has_text="Staniforth-Rowbotham")
        expect(cell).to_be_visible()
        assert cell.evaluate("el => getComputedStyle(el).display") == "block"
        # The surname is on one line: its cell is at least as wide as the word.
        assert cell.evaluate("el => el.getBoundingClientRect().width") > 200
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.snap("queue-stacked-390")
        page.goto("/supervise/")
        expect(page.locator("th[scope='row'] a", has_text="Browser Tracer").first).to_be_visible()
        page.snap("dashboard-stacked-390")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_row_form_error_is_the_govuk_error_summary_linked_to_the_field(page, live_app, width):
    """Item 4: the doorstep visit form (a card per visit) reports a missing outcome the way every form does."""
    surname = "Errorcase" + ("ash" if width == 1280 else "oak")
    escalation_id = assigned_visit(live_app, 790 + width % 7, "Peri", surname, phone="07700 900791",
                                   postcode="S6 3AD")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "field")
    card = page.get_by_test_id(f"visit-{escalation_id}")
    card.get_by_role("button", name="Record visit").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(f"Peri {surname}: Choose what happened at the door")
    assert page.title().startswith("Error: ")
    summary.get_by_role("link").click()
    expect(page.locator(f"#outcome-{escalation_id}-reached")).to_be_focused()
    expect(page.locator(f"#outcome-{escalation_id}-error")).to_contain_text("Choose what happened at the door")
    page.snap(f"visit-form-error-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_charts_use_the_pages_font_at_a_readable_size_with_their_table(page, live_app, width):
    """Item 9: the reach chart's text is the page's font, 12px or more on screen, with a legend and a table;
    no data, no chart: a sentence."""
    import time_machine

    from tests.browser.test_supervision_flow import DAY, fresh_queue

    with time_machine.travel(DAY, tick=True):
        fresh_queue(live_app, [(800 + width % 7, "Quilla", "Varley", "07700 900801", "S9 2AA")])
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, "reporting")
        page.goto("/reports/?from=2026-11-01&to=2026-11-30")
        chart = page.locator("svg.tts-chart").first
        expect(chart).to_be_visible()
        font = chart.locator("text").first.evaluate(
            "el => [getComputedStyle(el).fontFamily, el.getBoundingClientRect().height]")
        assert "GDS Transport" in font[0] and "Times" not in font[0]
        assert font[1] >= 12, f"chart text is {font[1]}px high on screen"
        expect(page.locator(".tts-legend").first).to_contain_text("National service, cases: 78%")
        expect(page.get_by_text("Share reached by day (the data in the chart)")).to_be_visible()
        chart.scroll_into_view_if_needed()
        page.snap(f"kpi-chart-{width}")
        page.goto("/reports/?from=2020-01-01&to=2020-01-02")
        expect(page.get_by_test_id("reach-empty")).to_contain_text("Nobody was logged in these dates")
        assert page.locator("svg.tts-chart").count() == 0
        page.snap(f"kpi-no-data-{width}")
