"""An analyst asks for a spreadsheet too large to build at once, watches it being prepared, and downloads it."""
import io

import pytest
import time_machine
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import person_data
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.worker import start_inline

pytestmark = pytest.mark.browser


def test_a_large_spreadsheet_in_the_browser(page, live_app):
    live_app.config.update(TTS_EXPORT_INLINE_MAX_ROWS=2, TTS_WORKER_INTERVAL_SECONDS=0.3)
    with time_machine.travel("2026-11-23T10:00:00+00:00", tick=True):
        with live_app.app_context():
            for n in range(3):
                create_case(None, person_data(n, last_name=f"Ledger{n}", phone=f"07700 9003{n:02d}"),
                            test_date=today(), symptom_onset_date=None)
            db.session.commit()
        stop = start_inline(live_app)  # the worker, as `make run` has it
        try:
            sign_in(page, "reporting")
            page.goto("/reports/exports?from=2026-11-23&to=2026-11-23")
            page.get_by_role("link", name="XLSX of cases").click()
            expect(page.get_by_role("heading", name="This spreadsheet has")).to_be_visible()
            assert_accessible(page, "the offer to prepare a large export")
            page.snap("export-offer")
            page.get_by_role("button", name="Prepare the spreadsheet").click()
            expect(page.get_by_test_id("progress")).to_be_visible()
            expect(page.get_by_text("Your spreadsheet is ready")).to_be_visible(timeout=20_000)
            assert_accessible(page, "a finished export job")
            page.snap("export-ready")
            with page.expect_download() as download:
                page.get_by_role("button", name="Download tts-cases").click()
            with open(download.value.path(), "rb") as handle:
                content = handle.read()
            from openpyxl import load_workbook

            rows = list(load_workbook(io.BytesIO(content), read_only=True)["data"].iter_rows(values_only=True))
            assert len(rows) >= 4 and rows[0][0] == "case_id"
            page.get_by_role("link", name="Back to export data").click()
            expect(page.get_by_test_id("export-jobs")).to_contain_text("Cases")
            page.snap("export-listed")
        finally:
            stop.set()
            live_app.config.update(TTS_EXPORT_INLINE_MAX_ROWS=100_000, TTS_WORKER_INTERVAL_SECONDS=5)
