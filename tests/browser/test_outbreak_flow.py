"""Outbreaks in the browser: a supervisor logs a care-home resident's carer (their contact) as a positive case
and links them to the care home; the outbreak opens by itself and is on the dashboard at once; they record an
action, see the chain, and email the setting its advice letter (a real SMTP server, started here). At 1280
and 390 pixels wide, with screenshots, axe-clean."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_case_flow import fill_date
from tests.factories import person_data
from tests.letters.conftest import Mailbox
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db
from tts.outbreaks.services import link
from tts.outbreaks.settings import SettingData, create_setting

pytestmark = pytest.mark.browser
D = timedelta(days=1)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_second_care_home_case_opens_an_outbreak_which_the_supervisor_manages(page, live_app, width, monkeypatch):
    n = width % 1000
    with live_app.app_context():
        home = create_setting(None, SettingData(name=f"Larkspur Care Home {width}", kind="care_home",
                                                address="6 Larkspur Road, Sheffield", postcode="S11 8YA",
                                                contact_name="Ember Moorcroft", contact_phone="0114 496 0777",
                                                contact_email=f"manager{width}@larkspur.example", size=52))
        resident = create_case(None, person_data(n, first_name="Ada", last_name=f"Larkspur{width}",
                                                 phone=f"07700 900{n:03d}", address="6 Larkspur Road, Sheffield"),
                               test_date=today() - 3 * D, symptom_onset_date=today() - 4 * D)
        link(None, home, case=resident)
        carer = add_contact(None, resident, person_data(n + 1, first_name="Cleo", last_name=f"Carer{width}",
                                                        phone=f"07700 900{n + 1:03d}", address="8 Other Road, Sheffield",
                                                        postcode="S6 2AA"),
                            relationship="close", last_exposure_date=today() - 2 * D)
        db.session.commit()
        resident_id, home_name = resident.id, home.name
        assert carer.id

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "supervisor")
    page.goto(f"/cases/{resident_id}")
    page.get_by_role("link", name="Log as a positive case").click()
    fill_date(page, "test_date", today())
    page.get_by_role("button", name="Log as a positive case").click()
    expect(page.get_by_text("Caught it from")).to_be_visible()

    page.get_by_role("link", name="Link a setting").click()
    page.get_by_label("Find the setting in the register").fill("larkspur")
    page.get_by_role("button", name="Search").click()
    page.get_by_label(f"{home_name}, S11 8YA").check()
    fill_date(page, "last_attended", today() - D)
    page.snap(f"link-a-setting-{width}")
    assert_accessible(page, "linking a case to a setting")
    page.get_by_role("button", name="Link setting").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The setting has an outbreak")
    expect(page.get_by_test_id("case-outbreak")).to_contain_text(home_name)

    page.goto("/supervise/")
    banner = page.get_by_test_id("outbreaks-banner")
    expect(banner).to_contain_text(home_name)
    expect(page.get_by_test_id("outbreak-work")).to_contain_text(f"Call the setting: {home_name}")
    page.snap(f"dashboard-outbreak-{width}")
    assert_accessible(page, "the dashboard with an outbreak")
    banner.get_by_role("link", name=home_name, exact=True).click()

    expect(page.get_by_test_id("outbreak-status")).to_have_text("Open")
    expect(page.get_by_test_id("chain-list")).to_contain_text(f"Cleo Carer{width}")
    expect(page.get_by_test_id("chain-list")).to_contain_text(f"caught it from Ada Larkspur{width}")
    expect(page.locator("#chain-title")).to_have_count(1)
    page.snap(f"outbreak-page-{width}")
    assert_accessible(page, "the outbreak page")

    form = page.get_by_test_id("action-form")
    form.get_by_label("Advice given").check()
    form.get_by_label("Notes").fill("Told the manager: stop visits, cohort staff by floor, test all residents")
    form.get_by_role("button", name="Record action").click()
    expect(page.get_by_test_id("actions")).to_contain_text("cohort staff by floor")
    page.snap(f"outbreak-action-recorded-{width}")

    with Mailbox() as mailbox:
        for key, value in {"TTS_SMTP_HOST": "127.0.0.1", "TTS_SMTP_PORT": mailbox.port, "TTS_SMTP_SECURITY": "none",
                           "TTS_SMTP_FROM": "tracing@council.example"}.items():
            monkeypatch.setitem(live_app.config, key, value)
        page.get_by_role("button", name="Make the outbreak advice letter").click()
        letters = page.get_by_test_id("letters").first
        expect(letters).to_contain_text("Outbreak advice letter")
        letters.get_by_role("link", name="Email").first.click()
        expect(page.get_by_label("Email address")).to_have_value(f"manager{width}@larkspur.example")
        page.snap(f"email-the-letter-{width}")
        assert_accessible(page, "emailing a letter")
        page.get_by_role("button", name="Send email").click()
        expect(page.get_by_test_id("letters").first).to_contain_text("Waiting to be sent")
        with live_app.app_context():
            from tts.letters.services import send_letters

            assert send_letters() == 1  # the worker's pass
            assert send_letters() == 0
        page.reload()
        expect(page.get_by_test_id("letters").first).to_contain_text("Emailed")
        assert len(mailbox.messages) == 1 and mailbox.messages[0]["To"] == f"manager{width}@larkspur.example"
    page.snap(f"letter-emailed-{width}")

    status = page.get_by_test_id("status-form")
    status.get_by_label("Monitoring").check()
    status.get_by_label("Why?").fill("Measures in place; watching for new cases")
    status.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("outbreak-status")).to_have_text("Monitoring")
    page.snap(f"outbreak-monitoring-{width}")
    assert_accessible(page, "the outbreak page, monitoring")
