"""Each role's day on any screen (issue "Each role's day"): where signing in lands each role, the navigation
folded behind a Menu button on a phone, and a field officer's tap-to-call and maps links. At 1280 and 390
pixels wide, with screenshots."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


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
    from sqlalchemy import select

    from tests.factories import person_data
    from tts.auth.models import User
    from tts.callqueue.models import WorkItem
    from tts.callqueue.services import escalate_item
    from tts.cases.services import create_case
    from tts.clock import today
    from tts.escalation.services import assign_visit
    from tts.extensions import db

    surname = "Doorstep" + ("ash" if width == 1280 else "oak")
    with live_app.app_context():
        officer = db.session.scalar(select(User).where(User.email == "field@browser.example"))
        case = create_case(None, person_data(700 + width % 50, first_name="Orla", last_name=surname,
                                             phone="07700 900777", address=f"{width} Round Street, Sheffield",
                                             postcode="S6 3AB"), test_date=today(), symptom_onset_date=None)
        item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id))
        assign_visit(None, escalate_item(None, item, "attempts_exhausted"), officer)
        db.session.commit()
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
