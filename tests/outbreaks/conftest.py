from datetime import timedelta

import pytest

from tests.factories import person_data
from tests.selfservice.conftest import texted_case  # noqa: F401 (a fixture for test_mentions.py)
from tts.cases.services import create_case
from tts.clock import today
from tts.outbreaks.settings import SettingData, create_setting


def new_setting(n: int = 0, kind: str = "care_home", **overrides):
    data = dict(name=f"Ferncliffe House {n}", kind=kind, address=f"{n + 1} Imaginary Lane, Sheffield",
                postcode="S11 8YA", contact_name="Morwenna Quillon", contact_phone="0114 496 0123",
                contact_email="manager@ferncliffe.example", size=40)
    data.update(overrides)
    return create_setting(None, SettingData(**data))


def new_case(n: int, days_ago: int = 0, onset_days_ago: int | None = None):
    return create_case(None, person_data(n, last_name=f"Cluster{n}", phone=f"07700 900{n % 1000:03d}",
                                         address=f"{n + 1} Outbreak Row"),
                       test_date=today() - timedelta(days=days_ago),
                       symptom_onset_date=None if onset_days_ago is None else today() - timedelta(days=onset_days_ago))


@pytest.fixture
def octx(app):
    """An app context for service tests (the suite rolls everything back after the test)."""
    with app.app_context():
        yield
