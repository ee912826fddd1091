"""People helping themselves, in the browser: a case completes the online form on a 390-px phone and their
contacts appear in the queue, the call screen shows it as self-reported; a contact confirms their advice;
check-in replies of 2 and 3 reach a tracer and a supervisor. Every self-service page passes axe."""
import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.browser.conftest import assert_accessible, open_from_menu, sign_in
from tests.factories import person_data
from tts.callqueue.models import WorkItem
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db
from tts.telephony.models import Message
from tts.worker import run_once

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
MONDAY = "2026-11-23T10:00:00+00:00"


def token_for(person_id: int, trigger: str) -> str:
    body = db.session.scalar(select(Message.body).where(Message.person_id == person_id, Message.trigger == trigger))
    return re.search(r"/s/([A-Za-z0-9_-]+)", body).group(1)


def quiet_queue() -> None:
    """Other tests' calls out of the way, so "Call next person" picks this test's people."""
    db.session.execute(update(WorkItem).where(WorkItem.status.in_(("open", "claimed"))).values(status="cancelled"))


def fill_date(page, day, *, within=None) -> None:
    scope = within or page
    scope.get_by_label("Day").fill(str(day.day))
    scope.get_by_label("Month").fill(str(day.month))
    scope.get_by_label("Year").fill(str(day.year))


def test_a_case_completes_the_form_on_a_phone_and_their_contacts_reach_the_queue(page, live_app):
    with time_machine.travel(MONDAY, tick=True):
        with live_app.app_context():
            quiet_queue()
            case = create_case(None, person_data(501, first_name="Marisol", last_name="Quenby",
                                                 address="8 Lantern Street", postcode="S3 7RA"),
                               test_date=today(), symptom_onset_date=None)
            db.session.commit()
            token, dob = token_for(case.person_id, "introduction"), case.person.date_of_birth
        page.set_viewport_size(PHONE)
        page.goto(f"/s/{token}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Tell us who you have been in contact with")
        assert "Marisol" not in page.content()  # nothing personal before the date of birth
        assert_accessible(page, "the self-service start page")
        page.snap("start-390")
        page.get_by_role("button", name="Start now").click()

        page.get_by_role("button", name="Continue").click()  # no date: the GOV.UK error summary
        expect(page.get_by_role("alert")).to_contain_text("Enter your date of birth")
        assert_accessible(page, "the date of birth page with an error")
        page.snap("date-of-birth-error-390")
        fill_date(page, dob)
        page.get_by_role("button", name="Continue").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Which language should we send you texts in?")
        assert_accessible(page, "the language page")
        page.get_by_label("English").check()
        page.get_by_role("button", name="Continue").click()

        page.get_by_role("button", name="Continue").click()  # nothing chosen
        expect(page.get_by_role("alert")).to_contain_text("Select yes if you have had symptoms")
        assert_accessible(page, "the symptoms page with an error")
        page.get_by_label("Yes").check()
        page.snap("symptoms-390")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("When did your symptoms start?")
        fill_date(page, today() - timedelta(days=1))
        assert_accessible(page, "the onset date page")
        page.get_by_role("button", name="Continue").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Who do you live with?")
        assert_accessible(page, "the household page")
        page.get_by_label("Yes").check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("First name").fill("Oren")
        page.get_by_label("Last name").fill("Quenby")
        page.get_by_label("Mobile phone number (optional)").fill("07700 900512")
        assert_accessible(page, "the add-someone page")
        page.get_by_role("button", name="Add this person").click()
        expect(page.get_by_test_id("household-list")).to_contain_text("Oren Quenby")
        page.snap("household-390")
        page.get_by_label("No").check()
        page.get_by_role("button", name="Continue").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Who else were you close to?")
        page.get_by_label("Yes").check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("First name").fill("Tamsin")
        page.get_by_label("Last name").fill("Rooke")
        page.get_by_label("Mobile phone number (optional)").fill("12345")
        fill_date(page, today())
        page.get_by_role("button", name="Add this person").click()
        expect(page.get_by_role("alert")).to_be_visible()  # the service's phone rule, named on the field
        assert_accessible(page, "the add-someone page with an error")
        page.snap("contact-error-390")
        page.get_by_label("Mobile phone number (optional)").fill("07700 900513")
        page.get_by_role("button", name="Add this person").click()
        page.get_by_label("No").check()
        page.get_by_role("button", name="Continue").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Where did you go"))
        assert_accessible(page, "the places page")
        page.get_by_role("textbox").fill("Kelham Island Print Works, most days")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("What help do you need to stay at home?")
        assert_accessible(page, "the support page")
        page.get_by_label("Food").check()
        page.get_by_role("button", name="Continue").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before sending them")
        assert_accessible(page, "check your answers")
        page.snap("check-answers-390")
        page.get_by_role("button", name="Send your answers").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been sent")
        expect(page.get_by_test_id("isolation-end")).to_be_visible()
        assert_accessible(page, "the confirmation page")
        page.snap("confirmation-390")

        # Their contacts are in the queue; the tracer's call screen shows it was self-reported.
        page.set_viewport_size({"width": 1280, "height": 900})
        sign_in(page, "tracer3")
        page.goto("/queue/")
        page.get_by_role("button", name="Call next person").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Call Marisol Quenby")
        expect(page.get_by_test_id("completed-online")).to_be_visible()
        expect(page.get_by_test_id("named-contacts")).to_contain_text("Oren Quenby")
        expect(page.get_by_test_id("named-contacts")).to_contain_text("Tamsin Rooke")
        expect(page.get_by_test_id("self-reported").first).to_be_visible()
        page.snap("call-screen-check-and-support-1280")
        with live_app.app_context():
            waiting = db.session.scalars(select(WorkItem.kind).where(
                WorkItem.status.in_(("open", "claimed")), WorkItem.contact_id.is_not(None))).all()
            assert waiting == ["initial_call", "initial_call"]  # Oren (on this call: same household) and Tamsin


def test_a_contact_confirms_their_advice_by_text_on_a_phone(page, live_app):
    with time_machine.travel(MONDAY, tick=True):
        with live_app.app_context():
            case = create_case(None, person_data(521, first_name="Idris", last_name="Vane"), test_date=today(),
                               symptom_onset_date=None)
            contact = add_contact(None, case, person_data(522, first_name="Lowenna", last_name="Cray"),
                                  relationship="close", last_exposure_date=today())
            db.session.commit()
            token, person_id = token_for(contact.person_id, "contact_advice"), contact.person_id
        page.set_viewport_size(PHONE)
        page.goto(f"/s/{token}")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello Lowenna, stay at home until")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("alert")).to_contain_text("Choose what you want to tell us")
        assert_accessible(page, "a contact's page with an error")
        page.get_by_label("I have read the advice and I will stay at home").check()
        assert_accessible(page, "a contact's page")
        page.snap("contact-advice-390")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        assert_accessible(page, "a contact's thank-you page")
        page.snap("contact-confirmed-390")
        page.goto(f"/s/{token}")  # answered: the link is spent, and says only how to reach the team
        expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
        assert_accessible(page, "the link-does-not-work page")
        page.snap("link-spent-390")

        page.set_viewport_size({"width": 1280, "height": 900})
        sign_in(page, "supervisor")
        page.goto(f"/people/{person_id}")
        expect(page.get_by_test_id("links")).to_contain_text("Read the advice and will stay at home")
        page.snap("person-page-links-1280")


def test_check_in_replies_of_2_and_3_reach_a_tracer_and_a_supervisor(page, live_app):
    from tts.callqueue.outcomes import record_attempt
    from tts.callqueue.services import claim_item
    from tts.auth.models import User

    with time_machine.travel(MONDAY, tick=True) as clock:
        with live_app.app_context():
            quiet_queue()
            tracer = db.session.scalar(select(User).where(User.email == "tracer2@browser.example"))
            worse = create_case(None, person_data(531, first_name="Bryony", last_name="Ashlar"), test_date=today(),
                                symptom_onset_date=None)
            helpme = create_case(None, person_data(532, first_name="Cosmo", last_name="Ferrand"), test_date=today(),
                                 symptom_onset_date=None)
            for case in (worse, helpme):
                item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == case.id))
                claim_item(tracer, item)
                record_attempt(tracer, item, outcome="reached")
            db.session.commit()
            ids = (worse.person_id, helpme.person_id)
        clock.move_to("2026-11-25T10:05:00+00:00")  # day 2 of isolation: the check-ins go
        with live_app.app_context():
            run_once()
            quiet_queue()
            db.session.commit()

        sign_in(page, "tracer2")
        for person_id, reply in zip(ids, ("2", "3")):
            page.goto(f"/people/{person_id}")
            page.get_by_label(re.compile("Simulate a text from")).fill(reply)
            page.get_by_role("button", name="Simulate reply").click()
            expect(page.get_by_test_id("checkins")).to_contain_text(
                "2: symptoms or worse" if reply == "2" else "3: needs help")
        page.snap("check-in-reply-on-person-page-1280")
        page.goto("/queue/")
        page.get_by_role("button", name="Call next person").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Call Bryony Ashlar")  # the priority welfare call
        page.snap("priority-welfare-call-1280")
        page.get_by_role("button", name="Sign out").click()

        sign_in(page, "supervisor")
        page.goto("/supervise/")
        expect(page.get_by_test_id("alerts-banner")).to_be_visible()
        page.snap("dashboard-alerts-banner-1280")
        page.set_viewport_size(PHONE)
        page.get_by_role("button", name="Menu").click()  # on a phone the navigation folds behind Menu
        open_from_menu(page, "Follow-up", "Alerts")
        alerts = page.get_by_test_id("alerts")
        expect(alerts).to_contain_text("Bryony Ashlar")
        expect(alerts).to_contain_text("Cosmo Ferrand")
        expect(alerts).to_contain_text("Asked for help at a check-in")
        assert_accessible(page, "the alerts page")
        page.snap("alerts-390")
        alerts.locator("tr", has_text="Cosmo Ferrand").get_by_role("button", name=re.compile("Dealt with")).click()
        expect(page.get_by_text("Marked as dealt with")).to_be_visible()
        page.goto("/support/")
        expect(page.get_by_role("main")).to_contain_text("Cosmo Ferrand")
        page.snap("support-need-from-check-in-390")
        page.goto("/supervise/non-responders")
        assert_accessible(page, "the missed check-ins page")
        page.snap("missed-check-ins-390")
