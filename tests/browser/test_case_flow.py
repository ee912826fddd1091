"""A tracer logs in, logs a case with a household contact, and sees the isolation and quarantine dates."""
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_TOTP_SECRET, sign_in
from tts.clock import today

pytestmark = pytest.mark.browser
D = timedelta(days=1)


def fill_date(page, field_id: str, value) -> None:
    page.locator(f"#{field_id}-day").fill(str(value.day))
    page.locator(f"#{field_id}-month").fill(str(value.month))
    page.locator(f"#{field_id}-year").fill(str(value.year))


def test_tracer_logs_a_case_with_a_household_contact(page):
    sign_in(page, "tracer")
    page.snap("lands-on-my-work")
    page.get_by_role("link", name="Cases").click()
    page.get_by_role("button", name="Log a new case").click()
    page.get_by_label("First name").fill("Wren")
    page.get_by_label("Last name").fill("Tallowby")
    fill_date(page, "date_of_birth", today().replace(year=1985, month=3, day=14))
    page.get_by_label("Phone number").fill("07700 900888")
    page.get_by_label("Address", exact=True).fill("12 Invented Crescent, Sheffield")
    page.get_by_label("Postcode").fill("s6 3dl")
    fill_date(page, "test_date", today() - D)
    fill_date(page, "symptom_onset_date", today() - 3 * D)
    page.snap("new-case-filled")
    page.get_by_role("button", name="Save case").click()

    isolation_end = today() + 7 * D
    expect(page.get_by_test_id("isolation-end")).to_have_text(f"{isolation_end:%-d %B %Y}")
    expect(page.get_by_text("S6 3DL")).to_be_visible()
    page.snap("case-page")

    page.get_by_role("button", name="Add a contact").click()
    page.get_by_label("Household: lives with the case").check()
    fill_date(page, "last_exposure_date", today() - D)
    page.get_by_label("First name").fill("Ash")
    page.get_by_label("Last name").fill("Tallowby")
    page.get_by_role("button", name="Add contact").click()

    expect(page.get_by_text("Ash Tallowby added as a household contact")).to_be_visible()
    expect(page.get_by_test_id("quarantine-end")).to_have_text(f"{today() + 13 * D:%-d %B %Y}")
    page.snap("case-with-contact")


def test_errors_are_summarised_and_linked_to_fields(page):
    sign_in(page, "tracer")
    page.goto("/cases/new")
    page.get_by_label("Phone number").fill("12345")
    page.get_by_role("button", name="Save case").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the first name")
    summary.get_by_role("link", name="Enter a phone number, like 07700 900123").click()
    expect(page.locator("#phone")).to_be_focused()
    page.snap("case-errors")


def test_keyboard_only_sign_in(page, live_server):
    page.goto("/login")
    page.keyboard.press("Tab")  # skip link first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.get_by_label("Email address").focus()
    page.keyboard.type("admin@browser.example")
    page.keyboard.press("Tab")
    page.keyboard.type("quiet-lantern-harbour")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + "/login/code")
    expect(page.get_by_label("Code from your authenticator app")).to_be_visible()
    page.get_by_label("Code from your authenticator app").focus()
    page.keyboard.type(pyotp.TOTP(BROWSER_TOTP_SECRET).now())
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + "/admin/users")  # an administrator's day starts with the accounts
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.snap("admin-lands-on-users")
