"""Each role's day (issue "Each role's day"), the items the other browser tests do not show, at 1280 and 390
pixels wide with screenshots: a held call comes before new work (1), an import reports every problem of every
row at once (5), the call screen's history and the script beside the contact form (8), the favicon and the
planner's recommendation (11)."""
import time_machine
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in
from tests.browser.test_supervision_flow import DAY, fresh_queue
from tts.extensions import db

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_a_held_call_comes_first_and_the_call_screen_shows_its_history(page, live_app, width):
    from tts.auth.models import User
    from tts.callqueue.models import WorkItem
    from tts.callqueue.outcomes import record_attempt
    from tts.callqueue.services import claim_next
    from tts.cases.services import add_contact
    from tts.people.validation import PersonData

    with time_machine.travel(DAY, tick=True) as traveller:
        surname = "Heldfirst" + ("ash" if width == 1280 else "oak")
        fresh_queue(live_app, [(810 + width % 7, "Rosa", surname, "07700 900811", "S11 8AA")])
        with live_app.app_context():
            other = db.session.scalar(select(User).where(User.email == "tracer2@browser.example"))
            claim = claim_next(other)  # an earlier call: no answer, with a note
            record_attempt(other, claim.item, outcome="no_answer", notes="Rang twice, no voicemail set up",
                           claim_token=claim.item.claim_token)
            add_contact(other, claim.item.case, PersonData("Saul", surname, None, "07700 900812"),
                        relationship="close", last_exposure_date=claim.item.case.test_date)
            db.session.commit()
        traveller.shift(3 * 3600)  # the retry is due
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, "tracer")
        page.get_by_role("button", name="Call next person").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Call Rosa {surname}")
        expect(page.get_by_test_id("earlier-calls")).to_contain_text("Rang twice, no voicemail set up")
        expect(page.get_by_test_id("named-contacts")).to_contain_text(f"Saul {surname}")
        page.snap(f"call-screen-history-{width}")
        page.goto("/queue/")
        page.get_by_role("button", name="Call next person").first.click()  # still holding Rosa
        expect(page.get_by_text(f"You still hold the call with Rosa {surname}")).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Call Rosa {surname}")
        page.snap(f"held-call-comes-first-{width}")
        page.get_by_role("link", name="Add a contact").first.click()
        expect(page.get_by_text("The call's script")).to_be_visible()
        expect(page.get_by_text(f"Named so far: Saul {surname}")).to_be_visible()
        page.snap(f"script-beside-the-contact-form-{width}")
        with live_app.app_context():  # give the call back for the other tests
            for item in db.session.scalars(select(WorkItem).where(WorkItem.status == "claimed")):
                item.status, item.claimed_by_id, item.claimed_until = "cancelled", None, None
            db.session.commit()


@pytest.mark.parametrize("width", [1280, 390])
def test_an_import_lists_every_problem_of_every_row_at_once(page, live_app, tmp_path, width):
    from tests.imports.test_imports import csv_of

    bad = tmp_path / "referrals.csv"
    # Row 2 names a case that is not in the file, and has two other problems: all three are listed now.
    bad.write_text(csv_of(
        "NR-71,case,Tamsin,Wray,1984-02-11,07700 900871,,1 Referral Row Sheffield,S6 2AA,2026-11-21,,,,",
        "NR-72,contact,,Wray,,12345,,,,,,NR-99,household,2026-11-21"))
    with time_machine.travel(DAY, tick=True):
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, "supervisor")
        page.goto("/imports/")
        page.get_by_label("CSV file").set_input_files(str(bad))
        page.get_by_role("button", name="Upload and import").click()
        errors = page.get_by_test_id("import-errors")
        expect(errors).to_contain_text("No case with this referral id")
        expect(errors).to_contain_text("Enter the first name")
        expect(errors).to_contain_text("Enter a phone number")
        page.snap(f"import-every-problem-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_favicon_and_the_planners_recommendation(page, live_app, width):
    from tts.simulation.services import create_run, run_pending_simulations

    assert page.request.get("/favicon.ico").status == 200
    with live_app.app_context():
        run = create_run(None, cases_per_day="3", contacts_per_case="1", tracers="1")
        db.session.commit()
        run_id = run.id
        while run_pending_simulations():
            pass
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "reporting")
    page.goto(f"/planner/{run_id}")
    expect(page.get_by_test_id("recommendation")).to_contain_text("tracer")
    page.snap(f"planner-recommendation-{width}")
