"""In the browser: first sign-in enrols the authenticator; the session time-out warning offers more time."""
import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_PASSWORD, sign_in
from tts.auth.services import create_user
from tts.extensions import db

pytestmark = pytest.mark.browser


def test_first_sign_in_sets_up_the_authenticator_app(page, live_app, live_server):
    with live_app.app_context():
        create_user(None, email="newcomer@browser.example", name="Nova Newcomer", role="tracer",
                    password=BROWSER_PASSWORD)
        db.session.commit()
    page.goto("/login")
    page.get_by_label("Email address").fill("newcomer@browser.example")
    page.get_by_label("Password").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    page.snap("enrol")
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the 6-digit code")
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.snap("recovery-codes")
    page.get_by_role("link", name="I have saved my codes: continue").click()
    page.wait_for_url(live_server + "/queue/")  # a tracer's day starts at their own calls
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    expect(page.get_by_text("Nova Newcomer (Tracer)")).to_be_visible()


def test_the_session_time_out_warns_and_offers_more_time(page, live_app):
    live_app.config["TTS_SESSION_WARN_MINUTES"] = 31  # warn at once, instead of after 25 idle minutes
    try:
        sign_in(page, "tracer2")
        dialog = page.get_by_role("alertdialog", name="You will be signed out soon")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
        page.snap("time-out-warning")
        live_app.config["TTS_SESSION_WARN_MINUTES"] = 5
        dialog.get_by_role("button", name="Stay signed in").click()
        expect(dialog).to_be_hidden()
    finally:
        live_app.config["TTS_SESSION_WARN_MINUTES"] = 5


@pytest.mark.parametrize("width", [1280, 390])
def test_new_recovery_codes_ask_for_the_password_again(page, live_server, width):
    """A stolen session alone cannot replace the recovery codes: the account page asks for the password (or
    a code) and shows the GOV.UK error summary when it is missing, on a desktop and on a phone."""
    from tests.browser.conftest import assert_accessible

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "tracer3")
    page.goto("/account")
    page.get_by_role("button", name="Get new recovery codes").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter your current password, or a code from your authenticator app")
    page.snap(f"recovery-codes-refused-{width}")
    assert_accessible(page, "the account page with its error")
    summary.get_by_role("link").click()
    expect(page.locator("#codes-confirmation")).to_be_focused()
    page.locator("#codes-confirmation").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Get new recovery codes").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.snap(f"recovery-codes-new-{width}")
