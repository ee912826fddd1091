"""Cases logged at the same moment for one setting, on separate connections (as on several servers): exactly
one outbreak opens, holding every case. Real threads, PostgreSQL."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_app
from tests.factories import person_data
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.outbreaks.models import Outbreak, OutbreakCase
from tts.outbreaks.services import link
from tts.outbreaks.settings import SettingData, create_setting

ROUNDS, WRITERS = 5, 6


@pytest.mark.no_rollback
def test_concurrent_cases_open_exactly_one_outbreak(fresh_database_url, is_postgres):
    if not is_postgres:
        pytest.skip("row locks between connections: PostgreSQL")
    app = make_app(fresh_database_url("outbreak_race"))
    with app.app_context():
        setting_ids = [create_setting(None, SettingData(name=f"Race Care Home {r}", kind="care_home",
                                                        postcode="S11 8YA")).id for r in range(ROUNDS)]
        db.session.commit()

    errors: list[BaseException] = []

    def log_case(setting_id: int, n: int, gate: threading.Barrier) -> None:
        try:
            with app.app_context():
                from tts.outbreaks.models import Setting

                case = create_case(None, person_data(n, last_name=f"Racer{n}", phone=f"07700 900{n:03d}",
                                                     address=f"{n} Race Row"),
                                   test_date=today() - timedelta(days=n % 3), symptom_onset_date=None)
                setting = db.session.get(Setting, setting_id)
                db.session.flush()
                gate.wait()  # every writer links at once
                link(None, setting, case=case)
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    for r, setting_id in enumerate(setting_ids):
        gate = threading.Barrier(WRITERS, timeout=30)
        threads = [threading.Thread(target=log_case, args=(setting_id, r * WRITERS + w, gate), daemon=True)
                   for w in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert errors == []

    with app.app_context():
        for setting_id in setting_ids:
            outbreaks = db.session.scalars(select(Outbreak).where(Outbreak.setting_id == setting_id)).all()
            assert len(outbreaks) == 1, f"setting {setting_id}: {len(outbreaks)} outbreaks"
            members = db.session.scalar(select(func.count()).select_from(OutbreakCase)
                                        .where(OutbreakCase.outbreak_id == outbreaks[0].id))
            assert members == WRITERS
        db.session.remove()
        db.engine.dispose()
