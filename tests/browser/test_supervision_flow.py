"""A supervisor bulk-reassigns; a field officer records a doorstep visit; a support need is referred."""
import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import update

from tests.browser.conftest import sign_in, open_from_menu
from tests.factories import person_data
from tts.callqueue.models import WorkItem
from tts.cases.services import create_case
from tts.clock import today
from tts.escalation.models import Escalation
from tts.extensions import db

pytestmark = pytest.mark.browser
DAY = "2026-11-23T10:00:00+00:00"


def fresh_queue(live_app, people):
    with live_app.app_context():
        db.session.execute(update(WorkItem).where(WorkItem.status.in_(("open", "claimed"))).values(status="cancelled"))
        db.session.execute(update(Escalation).where(Escalation.status != "resolved").values(status="resolved"))
        for n, first, last, phone, postcode in people:
            create_case(None, person_data(n, first_name=first, last_name=last, phone=phone, address=f"{n} Flow Street",
                                          postcode=postcode), test_date=today(), symptom_onset_date=None)
        db.session.commit()


def test_supervisor_bulk_reassigns(page, live_app):
    with time_machine.travel(DAY, tick=True):
        fresh_queue(live_app, [(7, "Ivo", "Ashgrove", "07700 900701", "S6 1AA"),
                               (8, "Jude", "Birchall", "07700 900702", "S6 1AB"),
                               (9, "Kai", "Cobbold", "07700 900703", "S7 1AA")])
        sign_in(page, "supervisor")
        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_test_id("queue-depth")).to_contain_text("3")
        page.snap("dashboard")
        page.get_by_role("link", name="See and reassign the whole queue").click()
        page.get_by_label("Postcode district").fill("S6")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_text("2 items in the queue")).to_be_visible()
        page.get_by_label("Select Ivo Ashgrove").check()
        page.get_by_label("Select Jude Birchall").check()
        page.get_by_label("Move the selected items to").select_option(label="Browser Tracer3")
        page.get_by_role("button", name="Move selected").click()
        expect(page.get_by_text("2 items moved to Browser Tracer3.")).to_be_visible()
        page.snap("after-reassign")
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, "tracer3")
        page.goto("/queue/")
        expect(page.get_by_test_id("notices")).to_contain_text("gave you the call to Ivo Ashgrove")
        page.snap("tracer-sees-new-work")


def test_field_officer_records_a_doorstep_visit(page, live_app):
    with time_machine.travel(DAY, tick=True):
        fresh_queue(live_app, [(10, "Lior", "Dunmore", None, "S8 0AA")])  # no phone: escalated at once
        sign_in(page, "supervisor")
        page.goto("/escalations/")
        expect(page.get_by_role("link", name="Lior Dunmore")).to_be_visible()
        page.get_by_label("Visit by").select_option(label="Browser Field")
        page.get_by_role("button", name="Assign visit to Lior Dunmore").click()
        expect(page.get_by_text("Visit to Lior Dunmore assigned to Browser Field")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, "field")
        page.get_by_role("link", name="My visits").click()
        expect(page.get_by_text("10 Flow Street")).to_be_visible()
        page.snap("visit-list")
        page.get_by_label("Reached on the doorstep").check()
        page.get_by_role("button", name="Record visit to Lior Dunmore").click()
        expect(page.get_by_text("Visit to Lior Dunmore recorded: reached on the doorstep")).to_be_visible()
        expect(page.get_by_text("No visits assigned to you.")).to_be_visible()


def test_tracer_logs_support_that_a_supervisor_refers(page, live_app):
    with time_machine.travel(DAY, tick=True):
        fresh_queue(live_app, [(11, "Mika", "Eldridge", "07700 900711", "S9 1AA")])
        sign_in(page, "tracer3")
        page.goto("/queue/")
        page.get_by_role("button", name="Call next person").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Call Mika Eldridge")
        page.get_by_text("Log a support need for Mika").click()
        page.get_by_label("What do they need?").select_option(label="Food")
        page.get_by_label("How urgent?").select_option(label="Today")
        page.get_by_label("Notes about the support needed (optional)").fill("No one to shop for them")
        page.get_by_role("button", name="Log support need").click()
        expect(page.get_by_text("Support need logged for Mika: food")).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text("Call Mika Eldridge")  # still on the call
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, "supervisor")
        open_from_menu(page, "Follow-up", "Support needs")
        row = page.locator("tr", has_text="Mika Eldridge")
        row.get_by_label("Status").select_option(label="Referred")
        row.get_by_label("Referred to").select_option(label="Food bank")
        row.get_by_label("Text Mika that it is arranged").check()
        row.get_by_role("button", name="Update").click()
        expect(page.get_by_text("Food for Mika Eldridge: now referred (Food bank)")).to_be_visible()
        page.snap("support-referred")


def test_the_dashboard_updates_itself_and_can_be_paused(page, live_app):
    live_app.config["TTS_DASHBOARD_REFRESH_SECONDS"] = 1
    try:
        with time_machine.travel(DAY, tick=True):
            sign_in(page, "supervisor")
            page.goto("/supervise/")
            expect(page.get_by_label("Update the figures every 1 seconds")).to_be_checked()
            stamp = page.get_by_test_id("updated")
            first = stamp.inner_text()
            expect(stamp).not_to_have_text(first, timeout=5_000)  # fetched again by itself
            page.get_by_label("Update the figures every 1 seconds").uncheck()  # WCAG 2.2.2: it can be stopped
            page.wait_for_timeout(1_500)  # let a request already under way land
            paused = stamp.inner_text()
            page.wait_for_timeout(2_500)
            assert stamp.inner_text() == paused
            # Focus inside the panel also holds it still, so a keyboard user never loses their place.
            page.get_by_label("Update the figures every 1 seconds").check()
            page.get_by_test_id("overdue").focus()
            held = stamp.inner_text()
            page.wait_for_timeout(2_500)
            assert stamp.inner_text() == held
            expect(page.get_by_test_id("overdue")).to_be_focused()
    finally:
        live_app.config["TTS_DASHBOARD_REFRESH_SECONDS"] = 30
