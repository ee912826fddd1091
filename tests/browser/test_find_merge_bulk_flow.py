"""Case management in the browser, the supervisor's side and the call screen: find cases by part of a surname,
close two at once with a reason, merge a person entered twice; a tracer corrects a case's onset date from the
call screen and goes back to the call. At 1280 and 390 pixels wide, with screenshots."""
from datetime import date, timedelta

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
from tts.people.models import Person

pytestmark = pytest.mark.browser
D = timedelta(days=1)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_supervisor_finds_cases_closes_two_at_once_and_merges_a_person_entered_twice(page, live_app, width):
    surname = "Quillfeather" + ("ash" if width == 1280 else "oak")  # each run's own: the database is shared
    with live_app.app_context():
        for n, first in enumerate(("Ada", "Bryn", "Cass")):
            create_case(None, person_data(600 + n + width % 7 * 3, first_name=first, last_name=surname,
                                          postcode="S6 2LT"), test_date=today() - D, symptom_onset_date=None)
        # One woman, typed in twice: once with her phone, once without (same name and date of birth).
        born = date(1979, 7, 14) + timedelta(days=width)
        for phone in ("+447700900812" if width == 1280 else "+447700900813", None):
            db.session.add(Person(first_name="Mirren", last_name=f"Ashgrove{width}", date_of_birth=born,
                                  phone=phone, postcode="S6 2LT", address="5 Twice Row, Sheffield"))
        db.session.commit()

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "supervisor")
    page.goto("/cases/")
    page.get_by_label("Search").fill(surname[5:].lower())  # "featherash": part of the surname
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#results")).to_contain_text("3 cases found")
    expect(page.get_by_text("read as part of a name")).to_be_visible()
    page.snap(f"cases-found-by-part-of-a-surname-{width}")

    rows = page.locator("table.tts-case-list tbody tr")
    for n in (0, 1):
        rows.nth(n).locator("input[type=checkbox]").check()
    page.get_by_role("button", name="Close selected").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Close 2 cases")
    page.get_by_role("button", name="Close 2 cases").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose why they are being closed")
    page.snap(f"bulk-close-error-{width}")
    page.get_by_label("Duplicate record").check()
    page.get_by_role("button", name="Close 2 cases").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Closed 2 cases")
    page.snap(f"bulk-close-report-{width}")
    page.get_by_role("link", name="Back to cases").click()
    expect(page.locator("table.tts-case-list .govuk-tag", has_text="Closed")).to_have_count(2)

    page.goto("/people/duplicates")
    pair = page.locator("tr", has_text=f"Ashgrove{width}")
    expect(pair).to_contain_text("Same name and date of birth")
    page.snap(f"possible-duplicates-{width}")
    pair.get_by_role("link", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare two records")
    page.snap(f"compare-side-by-side-{width}")
    page.get_by_label("Keep record").first.check()
    page.get_by_role("button", name="Merge the records").click()
    expect(page.get_by_text("Merged: record")).to_be_visible()
    page.snap(f"merged-{width}")
    page.goto("/people/duplicates")
    expect(page.get_by_text(f"Ashgrove{width}")).to_have_count(0)


def test_a_tracer_corrects_the_onset_date_from_the_call_screen_and_goes_back_to_the_call(page, live_app):
    with time_machine.travel("2026-11-23T10:00:00+00:00", tick=True):
        with live_app.app_context():
            db.session.execute(update(WorkItem).where(WorkItem.status.in_(("open", "claimed")))
                               .values(status="cancelled"))
            create_case(None, person_data(640, first_name="Tamsin", last_name="Corrigan", address="9 Fix Lane",
                                          postcode="S7 1AA"), test_date=today() - D, symptom_onset_date=None)
            db.session.commit()
        sign_in(page, "tracer")
        page.get_by_role("link", name="My work").click()
        page.get_by_role("button", name="Call next person").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Call Tamsin Corrigan")
        call_url = page.url
        page.get_by_test_id("correct-case").click()
        page.locator("#symptom_onset_date-day").fill(str((today() - 3 * D).day))
        page.locator("#symptom_onset_date-month").fill(str((today() - 3 * D).month))
        page.locator("#symptom_onset_date-year").fill(str((today() - 3 * D).year))
        page.get_by_role("button", name="Save correction").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Say why it is being corrected")
        page.snap("correction-needs-a-reason")
        page.get_by_label("Why are you correcting it?").fill("She remembered a sore throat on Friday")
        page.get_by_role("button", name="Save correction").click()
        page.wait_for_url(call_url)
        expect(page.get_by_text("Corrected: onset date.")).to_be_visible()
        page.snap("back-on-the-call-after-correcting")
