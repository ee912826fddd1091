"""A tracer works the queue: Next, record no answer, Next again, record reached."""

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import update

from tests.browser.conftest import sign_in
from tests.factories import person_data
from tts.callqueue.models import WorkItem
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db

pytestmark = pytest.mark.browser


def test_tracer_works_the_queue(page, live_app):
    # The server runs in this process, so its clock is pinned inside calling hours (and ticks).
    with time_machine.travel("2026-11-23T10:00:00+00:00", tick=True):
        _seed_and_work(page, live_app)


def _seed_and_work(page, live_app):
    with live_app.app_context():
        db.session.execute(update(WorkItem).where(WorkItem.status.in_(("open", "claimed"))).values(status="cancelled"))
        create_case(None, person_data(4, first_name="Nia", last_name="Oakhurst", address="1 Queue Lane",
                                      postcode="S7 1AA"), test_date=today(), symptom_onset_date=None)
        create_case(None, person_data(5, first_name="Otto", last_name="Pennyworth", address="2 Queue Lane",
                                      postcode="S7 1AB"), test_date=today(), symptom_onset_date=None)
        db.session.commit()

    sign_in(page, "tracer")
    page.get_by_role("link", name="My work").click()
    expect(page.get_by_test_id("waiting")).to_contain_text("2 people are waiting")
    page.snap("my-work")
    page.get_by_role("button", name="Call next person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Call Nia Oakhurst")
    expect(page.get_by_text("Ask who they live with")).to_be_visible()
    page.snap("call-screen")
    page.get_by_label("No answer").check()
    page.get_by_label("Notes about the call (optional)").fill("Rang 10 times")
    page.get_by_role("button", name="Save outcome").click()
    expect(page.get_by_text("Call with Nia Oakhurst recorded: no answer. Next attempt after 12:00.")).to_be_visible()
    page.snap("after-no-answer")

    page.get_by_role("button", name="Call next person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Call Otto Pennyworth")
    page.get_by_label("Reached: spoke to them").check()
    page.get_by_role("button", name="Save outcome").click()
    expect(page.get_by_text("Call with Otto Pennyworth recorded: reached.")).to_be_visible()
    expect(page.get_by_text("2 calls, 1 reached")).to_be_visible()
    page.snap("after-reached")


def test_one_outcome_for_a_household_phone_that_did_not_answer(page, live_app):
    with time_machine.travel("2026-11-23T10:00:00+00:00", tick=True):
        with live_app.app_context():
            db.session.execute(update(WorkItem).where(WorkItem.status.in_(("open", "claimed")))
                               .values(status="cancelled"))
            case = create_case(None, person_data(6, first_name="Pia", last_name="Marchbank", address="3 Queue Lane",
                                                 postcode="S7 1AD", phone="0114 496 0606"),
                               test_date=today(), symptom_onset_date=None)
            add_contact(None, case, person_data(7, first_name="Rex", last_name="Marchbank", address="3 Queue Lane",
                                                postcode="S7 1AD", phone="0114 496 0606"),
                        relationship="household", last_exposure_date=today())
            db.session.commit()

        sign_in(page, "tracer")
        page.get_by_role("link", name="My work").click()
        page.get_by_role("button", name="Call next person").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Call Pia Marchbank")
        page.get_by_text("The number did not answer: record it for everyone on this call").click()
        details = page.get_by_test_id("call-outcome")
        expect(details.get_by_label("Pia Marchbank")).to_be_checked()
        expect(details.get_by_label("Rex Marchbank")).to_be_checked()
        details.get_by_role("button", name="Save for everyone ticked").click()  # no outcome chosen
        expect(page.locator(".govuk-error-summary")).to_contain_text("Choose what happened on the call")
        details = page.get_by_test_id("call-outcome")
        details.get_by_label("Line busy").check()
        page.snap("call-outcome-for-everyone")
        details.get_by_role("button", name="Save for everyone ticked").click()
        expect(page.get_by_text("Call recorded for Pia Marchbank and Rex Marchbank: line busy.")).to_be_visible()
