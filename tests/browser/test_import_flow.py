"""Upload a file with errors, read the report, upload the fixed file, watch the progress bar finish,
and find the new cases in the queue."""
import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import update

from tests.browser.conftest import sign_in
from tests.imports.test_imports import BAD, GOOD
from tts.callqueue.models import WorkItem
from tts.extensions import db
from tts.worker import start_inline

pytestmark = pytest.mark.browser


def test_import_referrals_in_the_browser(page, live_app, tmp_path):
    bad, good = tmp_path / "referrals.csv", tmp_path / "referrals-fixed.csv"
    bad.write_text(BAD)
    good.write_text(GOOD)
    live_app.config.update(TTS_IMPORT_INLINE_MAX_ROWS=2, TTS_WORKER_INTERVAL_SECONDS=0.3)
    with time_machine.travel("2026-11-23T10:00:00+00:00", tick=True):
        with live_app.app_context():
            db.session.execute(update(WorkItem).where(WorkItem.status.in_(("open", "claimed")))
                               .values(status="cancelled"))
            db.session.commit()
        stop = start_inline(live_app)  # the worker, as `make run` has it
        try:
            sign_in(page, "supervisor")
            page.get_by_role("link", name="Imports").click()
            page.get_by_label("CSV file").set_input_files(str(bad))
            page.get_by_role("button", name="Upload and import").click()
            expect(page.get_by_text("Nothing was imported")).to_be_visible()
            expect(page.get_by_test_id("import-errors")).to_contain_text("The same referral id is on row 2")
            page.snap("import-rejected")

            page.get_by_role("link", name="Back to imports").click()
            page.get_by_label("CSV file").set_input_files(str(good))
            page.get_by_role("button", name="Upload and import").click()
            expect(page.get_by_test_id("progress")).to_be_visible()
            expect(page.get_by_text("Import complete")).to_be_visible(timeout=20_000)
            expect(page.get_by_text("4 imported, 0 already imported before")).to_be_visible()
            page.snap("import-complete")

            page.goto("/supervise/queue")
            expect(page.get_by_role("link", name="Tamsin Wray")).to_be_visible()
            expect(page.get_by_role("link", name="Vic Zorn")).to_be_visible()
            page.snap("imported-in-queue")
        finally:
            stop.set()
            live_app.config.update(TTS_IMPORT_INLINE_MAX_ROWS=2000, TTS_WORKER_INTERVAL_SECONDS=5)
