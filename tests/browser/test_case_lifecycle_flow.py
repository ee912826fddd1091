"""Case management in the browser: a tracer logs a contact as a positive case, then closes a record with a
reason; logging the same person again shows their case instead of making a second one. At 1280 and 390
pixels wide, with screenshots."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_case_flow import fill_date
from tts.clock import today

pytestmark = pytest.mark.browser
D = timedelta(days=1)


def log_case(page, first: str, last: str, phone: str) -> None:
    page.goto("/cases/new")
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    fill_date(page, "date_of_birth", today().replace(year=1982, month=9, day=2))
    page.get_by_label("Phone number").fill(phone)
    page.get_by_label("Address", exact=True).fill("3 Lifecycle Lane, Sheffield")
    page.get_by_label("Postcode").fill("s2 4su")
    fill_date(page, "test_date", today() - D)
    page.get_by_role("button", name="Save case").click()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_contact_becomes_a_case_and_a_record_is_closed_with_a_reason(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "tracer")
    log_case(page, "Idris", f"Mallory{width}", f"07700 900{width % 1000:03d}")
    page.get_by_role("button", name="Add a contact").click()
    page.get_by_label("Close contact: face to face").check()
    fill_date(page, "last_exposure_date", today() - D)
    page.get_by_label("First name").fill("Nell")
    page.get_by_label("Last name").fill(f"Mallory{width}")
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_text("Not yet reached").first).to_be_visible()
    page.snap(f"case-contact-actions-{width}")

    page.get_by_role("link", name="Log as a positive case").click()
    fill_date(page, "test_date", today())
    page.get_by_role("button", name="Log as a positive case").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the date of birth")
    page.snap(f"convert-errors-{width}")
    fill_date(page, "date_of_birth", today().replace(year=2001, month=1, day=5))
    page.get_by_label("Address").fill("4 Lifecycle Lane, Sheffield")
    page.get_by_label("Postcode").fill("s2 4su")
    page.get_by_role("button", name="Log as a positive case").click()
    expect(page.get_by_text("Caught it from")).to_be_visible()
    page.snap(f"converted-case-{width}")

    page.get_by_role("link", name="Close this case").click()
    page.get_by_label("Duplicate record").check()
    page.get_by_role("button", name="Close case").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Closed")
    page.snap(f"closed-case-{width}")


def test_logging_the_same_person_again_shows_their_case(page):
    sign_in(page, "tracer")
    log_case(page, "Orla", "Penhaligon", "07700 900731")
    first = page.url
    log_case(page, "Orla", "Penhaligon", "07700 900731")
    expect(page.get_by_test_id("existing-case")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_contain_text("say whether this is the same illness")
    page.snap("duplicate-case-asked")
    page.get_by_label("No: the same illness").check()
    page.get_by_role("button", name="Save case").click()
    page.wait_for_url(first)
    expect(page.get_by_text("Nothing new was logged")).to_be_visible()
