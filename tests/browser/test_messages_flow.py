"""Simulated Twilio in the browser: a masked call from the call screen, texts moving through statuses."""
import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import update

from tests.browser.conftest import sign_in
from tests.factories import person_data
from tts.callqueue.models import WorkItem
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.worker import run_once

pytestmark = pytest.mark.browser


def test_simulated_call_and_messages(page, live_app):
    with time_machine.travel("2026-11-23T10:00:00+00:00", tick=True):
        with live_app.app_context():
            db.session.execute(update(WorkItem).where(WorkItem.status.in_(("open", "claimed")))
                               .values(status="cancelled"))
            create_case(None, person_data(6, first_name="Rhea", last_name="Quartermain", address="3 Signal Row",
                                          postcode="S2 4SU"), test_date=today(), symptom_onset_date=None)
            db.session.commit()

        sign_in(page, "tracer2")
        page.goto("/queue/")
        page.get_by_role("button", name="Call next person").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Call Rhea Quartermain")
        page.get_by_role("button", name="Call Rhea").click()
        expect(page.get_by_text("Simulated call to Rhea made and finished")).to_be_visible()
        page.snap("simulated-call")
        page.get_by_label("Reached: spoke to them").check()
        page.get_by_role("button", name="Save outcome").click()
        expect(page.get_by_text("Call with Rhea Quartermain recorded: reached.")).to_be_visible()

        with live_app.app_context():
            run_once()  # what the worker does every few seconds: sends the introduction and the advice

        page.get_by_role("link", name="Rhea Quartermain").first.click()
        rows = page.get_by_test_id("messages").locator("tbody tr")
        expect(rows).to_have_count(5)  # introduction, isolation advice, and check-ins on days 2, 5 and 8
        expect(page.get_by_test_id("message-status").nth(0)).to_have_text("Queued")  # check-ins: later
        expect(page.get_by_test_id("message-status").nth(4)).to_have_text("Sending")
        page.snap("messages-sending")
        rows.nth(4).get_by_role("button", name="Mark delivered").click()
        expect(page.get_by_text("Simulated Twilio reporting the text as delivered")).to_be_visible()
        expect(page.get_by_test_id("message-status").nth(4)).to_have_text("Delivered")
        page.get_by_label("Simulate a text from Rhea").fill("Can you ring me after 5?")
        page.get_by_role("button", name="Simulate reply").click()
        expect(page.get_by_text("Can you ring me after 5?").first).to_be_visible()
        expect(page.get_by_test_id("message-status").first).to_have_text("Received")
        page.snap("messages-after-reply")
