"""A tracer's shift with the keyboard alone: sign in, Next, read the script, add a contact, log a support need,
record the outcome, Next. Only key presses drive the page (Tab, Enter, Space, arrows, typing, the call screen's
shortcuts); every stop the Tab key reaches must show where the focus is."""
import pyotp
import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.browser.conftest import BROWSER_PASSWORD, BROWSER_TOTP_SECRET
from tests.factories import person_data
from tts.callqueue.models import WorkItem
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.support.models import SupportNeed

pytestmark = pytest.mark.browser

FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  const shows = (style) => (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2)
    || (style.boxShadow && style.boxShadow !== 'none');
  if (shows(getComputedStyle(el))) return true;
  // GOV.UK radios and checkboxes draw their focus ring on the label's ::before/::after.
  const label = el.id && document.querySelector(`label[for="${el.id}"]`);
  return !!label && (shows(getComputedStyle(label, '::before')) || shows(getComputedStyle(label, '::after')));
}"""


def tab_to(page, selector: str, limit: int = 80, back: bool = False) -> None:
    """Press Tab until the focus is on `selector`, checking that each stop on the way shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate("() => document.activeElement !== document.body"):
            assert page.evaluate(FOCUS_VISIBLE), "no visible focus on " + page.evaluate(
                "() => document.activeElement.outerHTML.slice(0, 120)")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def press(page, key: str) -> None:
    """A shortcut key, once the page's script is listening for it."""
    page.wait_for_selector("html[data-tts-ready]", state="attached")
    page.keyboard.press(key)


def type_into(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def test_a_tracer_works_a_shift_with_the_keyboard_alone(page, live_app):
    with time_machine.travel("2026-11-23T10:00:00+00:00", tick=True):
        with live_app.app_context():
            db.session.execute(update(WorkItem).where(WorkItem.status.in_(("open", "claimed")))
                               .values(status="cancelled"))
            create_case(None, person_data(11, first_name="Tamsin", last_name="Keyworth", phone="07700 900811",
                                          address="11 Tab Street", postcode="S8 1AA"),
                        test_date=today(), symptom_onset_date=None)
            create_case(None, person_data(12, first_name="Ulric", last_name="Spacebar", phone="07700 900812",
                                          address="12 Enter Road", postcode="S8 1AB"),
                        test_date=today(), symptom_onset_date=None)
            db.session.commit()
        _shift(page, live_app)


def _shift(page, live_app):
    page.goto("/login")
    type_into(page, "#email", "tracer3@browser.example")
    type_into(page, "#password", BROWSER_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Code from your authenticator app")).to_be_visible()
    type_into(page, "input[name=code]", pyotp.TOTP(BROWSER_TOTP_SECRET).now())
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # The first Tab stop is the skip link, which shows itself when focused.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    tab_to(page, "a[href='/queue/']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    page.snap("my-work")

    # Next, by its shortcut.
    press(page, "n")
    expect(page.get_by_role("heading", level=1)).to_have_text("Call Tamsin Keyworth")
    expect(page.get_by_text("Ask who they live with")).to_be_visible()
    expect(page.get_by_test_id("shortcuts")).to_contain_text("Save the outcome and call the next person")
    page.snap("call-screen")

    # Add a contact: A opens the form; Tab through it, Space picks a radio, Enter sends it.
    press(page, "a")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a contact")
    tab_to(page, "input[name=relationship]")
    page.keyboard.press("Space")
    expect(page.get_by_label("Household")).to_be_checked()
    d = today()
    type_into(page, "#last_exposure_date-day", str(d.day))
    type_into(page, "#last_exposure_date-month", str(d.month))
    type_into(page, "#last_exposure_date-year", str(d.year))
    type_into(page, "#first_name", "Wren")
    type_into(page, "#last_name", "Keyworth")
    type_into(page, "#phone", "07700 900813")
    tab_to(page, "button[type=submit]:not(.tts-link-button)")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Wren Keyworth added as a household contact")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Call Tamsin Keyworth")

    # Log a support need: S opens the form at its first question; arrows choose, Tab moves, Enter sends.
    press(page, "s")
    expect(page.locator("#support-kind")).to_be_focused()
    page.keyboard.press("ArrowDown")  # Food -> Medicine
    tab_to(page, "#support-notes")
    page.keyboard.type("Repeat prescription from the chemist on Ecclesall Road")
    tab_to(page, "form[action*='support-needs'] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Support need logged for Tamsin: medicine")).to_be_visible()
    with live_app.app_context():
        assert db.session.scalars(select(SupportNeed.kind).where(SupportNeed.notes.like("Repeat prescription%"))
                                  ).all() == ["medicine"]

    # The outcome: 1 is "Reached", its radio takes the focus; N saves it and calls the next person.
    press(page, "1")
    reached = page.locator("[data-shortcut='1']")
    expect(reached).to_be_checked()
    expect(reached).to_be_focused()
    assert page.evaluate(FOCUS_VISIBLE)
    page.snap("outcome-chosen")
    press(page, "n")
    expect(page.get_by_text("Call with Tamsin Keyworth recorded: reached.")).to_be_visible()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Call Wren Keyworth")  # the household contact just added moved up the queue
    # The new person's form starts empty: nothing is carried over from the last call.
    expect(page.locator(".tts-outcome-form input[type=radio]:checked")).to_have_count(0)
    expect(page.locator(".tts-outcome-form textarea").first).to_have_value("")
    page.snap("next-person")

    # Shortcuts stay out of the way while typing, and can be turned off.
    tab_to(page, ".tts-outcome-form textarea")
    page.keyboard.type("no answer at first")
    expect(page.locator("[data-shortcut='2']")).not_to_be_checked()
    tab_to(page, ".tts-shortcuts summary")
    page.keyboard.press("Enter")  # opens the list of keyboard shortcuts
    tab_to(page, "#shortcuts-off")
    page.keyboard.press("Space")
    expect(page.locator("#shortcuts-off")).to_be_checked()
    page.keyboard.press("Shift+Tab")
    press(page, "2")
    expect(page.locator("[data-shortcut='2']")).not_to_be_checked()
    page.reload()  # remembered in this browser
    press(page, "2")
    expect(page.locator("[data-shortcut='2']")).not_to_be_checked()
