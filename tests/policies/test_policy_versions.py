"""The isolation policy is versioned data: a new version applies only to records created after it."""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import sign_in
from tests.factories import person_data
from tts.cases.services import add_contact, create_case
from tts.clock import london_midnight, today
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.policies.services import create_policy_version, policy_in_force

D = timedelta(days=1)
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_default_policy_is_seeded_by_migration(app):
    with app.app_context():
        policy = policy_in_force()
        assert (policy.case_isolation_days, policy.contact_quarantine_days, policy.infectious_days_before_onset) == (10, 14, 2)
        assert policy.note == "Default policy"


def test_new_version_applies_only_to_records_created_after_it_takes_effect(app):
    with time_machine.travel(NOON, tick=False), app.app_context():
        before = create_case(None, person_data(1), test_date=today(), symptom_onset_date=None)
        create_policy_version(None, effective_date=today() + D, case_isolation_days=7,
                              contact_quarantine_days=10, infectious_days_before_onset=2)
        still_old = create_case(None, person_data(2), test_date=today(), symptom_onset_date=None)
        assert still_old.isolation_end_date == today() + 10 * D
        case_id = before.id
        db.session.commit()
    with time_machine.travel(NOON + D, tick=False), app.app_context():
        after = create_case(None, person_data(3), test_date=today(), symptom_onset_date=None)
        assert after.isolation_end_date == today() + 7 * D
        contact = add_contact(None, after, person_data(4), relationship="close", last_exposure_date=today())
        assert contact.quarantine_end_date == today() + 10 * D
        old = db.session.get(type(after), case_id)
        assert old.isolation_end_date == (NOON.date() + 10 * D)
        # A contact added now to the old case uses today's policy for quarantine.
        late = add_contact(None, old, person_data(5), relationship="close", last_exposure_date=today())
        assert late.quarantine_end_date == today() + 10 * D


def test_version_effective_today_starts_now_not_at_midnight(app):
    with time_machine.travel(NOON, tick=False), app.app_context():
        policy = create_policy_version(None, effective_date=today(), case_isolation_days=5,
                                       contact_quarantine_days=5, infectious_days_before_onset=1)
        assert policy.effective_from == NOON
        assert policy.effective_from > london_midnight(today())
        assert policy_in_force().id == policy.id


def test_past_dates_and_silly_numbers_are_refused(app):
    with app.app_context():
        with pytest.raises(ValidationFailed) as exc:
            create_policy_version(None, effective_date=today() - D, case_isolation_days=0,
                                  contact_quarantine_days=None, infectious_days_before_onset=30)
        assert set(exc.value.errors) == {"effective_date", "case_isolation_days", "contact_quarantine_days",
                                         "infectious_days_before_onset"}
        assert "past records keep the policy" in exc.value.errors["effective_date"][0]


def test_admin_adds_a_version_in_the_app_and_tracers_may_not(client, make_user):
    sign_in(client, make_user("tracer"))
    assert client.get("/admin/policies/").status_code == 403
    client.post("/logout")
    sign_in(client, make_user("admin"))
    page = client.get("/admin/policies/")
    assert page.status_code == 200 and "Default policy" in page.get_data(as_text=True)
    tomorrow = today() + D
    response = client.post("/admin/policies/", data={
        "effective_date-day": tomorrow.day, "effective_date-month": tomorrow.month, "effective_date-year": tomorrow.year,
        "case_isolation_days": "8", "contact_quarantine_days": "11", "infectious_days_before_onset": "2",
        "note": "Guidance change"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "New policy saved" in html and "Scheduled" in html and "Guidance change" in html
    bad = client.post("/admin/policies/", data={"effective_date-day": "31", "effective_date-month": "2",
                                                "effective_date-year": "2027", "case_isolation_days": "x"})
    assert bad.status_code == 400
    assert "Takes effect on must be a real date" in bad.get_data(as_text=True)
