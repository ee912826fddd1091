"""The office roles' days in the browser: a council analyst reads the KPIs and exports data; an administrator
adds a colleague, issues an integration token and changes a text message; a supervisor works the escalations.
Screenshots of every page passed through go to test-artifacts/screenshots/<test name>/."""
import csv
import io
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in, open_from_menu
from tests.browser.test_supervision_flow import DAY, fresh_queue
from tts.audit.models import AuditEvent
from tts.extensions import db

pytestmark = pytest.mark.browser


def test_an_analyst_reads_the_kpis_and_exports_the_contacts(page, live_app):
    with time_machine.travel(DAY, tick=True):
        fresh_queue(live_app, [(21, "Orla", "Fenwick", "07700 900721", "S2 4AA")])
        sign_in(page, "reporting")
        open_from_menu(page, "Reports", "How we are doing")
        expect(page.get_by_role("heading", level=1)).to_have_text("How we are doing")
        expect(page.get_by_role("heading", name="Reach: the headline")).to_be_visible()
        expect(page.get_by_role("heading", name="Share reached by day")).to_be_visible()
        page.snap("kpis")

        # A date range that is not a range is refused on its field, and the page says why.
        page.get_by_label("From (YYYY-MM-DD)").fill("2026-13-01")
        page.get_by_role("button", name="Show").click()
        expect(page.locator(".govuk-error-summary")).to_be_focused()
        expect(page.locator("#from-error")).to_be_visible()
        page.snap("kpis-error")
        page.get_by_label("From (YYYY-MM-DD)").fill("2026-11-01")
        page.get_by_label("To (YYYY-MM-DD)").fill("2026-11-23")
        page.get_by_role("button", name="Show").click()
        expect(page.locator(".govuk-error-summary")).to_have_count(0)

        with page.expect_download() as publication:
            page.get_by_role("link", name="Download the tables for publication (small numbers suppressed)").click()
        assert publication.value.suggested_filename.endswith(".csv")

        page.get_by_role("link", name="Export data").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Export data")
        page.snap("exports")
        with page.expect_download() as download:
            page.get_by_role("link", name="CSV of cases").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
        assert rows and "first_name" not in rows[0] and "phone" not in rows[0]  # pseudonymised by default
        with live_app.app_context():
            assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.create")
                                     .order_by(AuditEvent.id.desc()).limit(1)) is not None


def test_an_admin_adds_a_colleague_issues_a_token_and_edits_a_text(page, live_app):
    with time_machine.travel(DAY, tick=True):
        sign_in(page, "admin")
        open_from_menu(page, "Administration", "Users")
        page.snap("users")
        page.get_by_role("button", name="Add a user").click()
        page.get_by_role("button", name="Create account").click()  # empty: every problem listed at once
        expect(page.locator(".govuk-error-summary")).to_be_focused()
        expect(page.locator(".govuk-error-summary li")).to_have_count(4)
        page.snap("add-user-errors")
        page.get_by_label("Full name").fill("Petra Quill")
        page.get_by_label("Email address").fill("petra.quill@browser.example")
        page.get_by_label("Tracer").check()
        page.get_by_label("Initial password").fill("copper-meadow-lantern-42")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("Account created for Petra Quill")).to_be_visible()
        page.snap("user-created")

        page.get_by_role("link", name="Petra Quill").click()
        page.get_by_label("Field officer: makes doorstep visits").check()
        page.get_by_role("button", name="Save changes").click()
        page.get_by_role("link", name="Petra Quill").click()
        expect(page.get_by_label("Field officer: makes doorstep visits")).to_be_checked()
        page.get_by_role("link", name="API tokens").click()
        page.get_by_label("Expires after (days)").fill("30")
        page.get_by_role("button", name="Create a token").click()
        expect(page.get_by_test_id("new-token")).to_contain_text("tts_")
        page.snap("token-issued")

        open_from_menu(page, "Administration", "Text messages")
        page.snap("templates")
        page.get_by_role("link", name="We tried to call you", exact=True).click()  # (the introduction must keep {link})
        message = page.get_by_label("Message", exact=True)
        message.fill("Hello {first_name}, this is the council's test and trace team. Please call us on {team_phone}.")
        expect(page.locator("#preview-text")).to_contain_text("Hello ")  # the live preview follows the typing
        expect(page.locator("#preview-count")).to_contain_text("1 text message")
        message.fill(message.input_value() + " 😀")
        expect(page.locator("#preview-count")).to_contain_text("UCS-2")
        page.snap("template-preview")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("saved")

        open_from_menu(page, "Administration", "Audit log")
        # Filtered to account events: other tests' events, made on the real clock, sort above this day's.
        page.get_by_label("Action starts with").fill("user.")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_text("user.create").first).to_be_visible()
        page.snap("audit-log")


def test_a_supervisor_works_the_escalations(page, live_app):
    with time_machine.travel(DAY, tick=True):
        fresh_queue(live_app, [(22, "Quentin", "Hartley", None, "S3 7AA")])  # no phone: escalated at once
        sign_in(page, "supervisor")
        open_from_menu(page, "Follow-up", "Escalations")
        expect(page.get_by_role("link", name="Quentin Hartley")).to_be_visible()
        page.snap("escalations")
        page.get_by_label("Visit by").select_option(label="Browser Field")
        page.get_by_role("button", name="Assign visit to Quentin Hartley").click()
        expect(page.get_by_text("Visit to Quentin Hartley assigned to Browser Field")).to_be_visible()
        page.snap("visit-assigned")


def test_an_analyst_plans_staffing_with_the_capacity_planner(page, live_app):
    from tts.simulation.services import run_pending_simulations

    sign_in(page, "reporting")
    open_from_menu(page, "Reports", "Capacity planner")
    expect(page.get_by_role("heading", level=1)).to_have_text("Capacity planner")
    page.get_by_label("Positive cases expected each day").fill("5")
    page.get_by_label("Contacts named per case, on average").fill("2")
    page.get_by_label("Tracers on shift through the calling hours").fill("2")
    page.snap("planner")
    page.get_by_role("button", name="Run the simulation").click()
    expect(page.get_by_text("Waiting for the worker to start it")).to_be_visible()
    page.snap("planner-waiting")
    with live_app.app_context():
        assert run_pending_simulations() == 1  # what the worker process does on its next pass
    # The page polls its progress and shows the figures by itself once the run is done.
    expect(page.get_by_test_id("headline")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("staffing").locator("tbody tr")).to_have_count(3)  # 1, 2 and 3 tracers
    page.snap("planner-results")
