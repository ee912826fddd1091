"""Correcting a record (tts/cases/corrections.py): a reason is required; end dates are worked out again by
the record's own policy; planned texts move; the audit event names the fields, never their values; the
person's timeline says who corrected what and why. On both databases."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tts.audit.models import AuditEvent
from tts.cases.corrections import correct_case, correct_contact
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.people.timeline import person_timeline
from tts.people.validation import PersonData

D = timedelta(days=1)


@pytest.fixture
def env(app, daytime):
    with app.app_context():
        yield daytime


def test_a_case_is_corrected_with_a_reason_and_its_isolation_worked_out_again(env):
    priya = UserFactory(role="tracer", name="Priya Tracer")
    case = create_case(priya, person_data(1), test_date=today() - D, symptom_onset_date=None)
    before = case.isolation_end_date
    with pytest.raises(ValidationFailed) as refused:
        correct_case(priya, case, reason=" ", symptom_onset_date=today() - 3 * D)
    assert refused.value.errors == {"reason": ["Say why it is being corrected"]}
    corrected = correct_case(priya, case, reason="Symptoms started earlier, said on the call",
                             symptom_onset_date=today() - 3 * D)
    assert corrected.fields == ["symptom_onset_date"]
    assert case.isolation_end_date == case.policy.isolation_end(today() - D, today() - 3 * D) != before
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.correct")).one()
    assert event.details == {"person_id": case.person_id, "fields": ["symptom_onset_date"]}  # no values
    entry = next(e for e in person_timeline(case.person) if "corrected" in e.title)
    assert entry.title == "Onset date corrected by Priya Tracer"
    assert entry.detail == "Reason: Symptoms started earlier, said on the call"
    with pytest.raises(ValidationFailed, match="Nothing was changed"):
        correct_case(priya, case, reason="again", symptom_onset_date=today() - 3 * D)


def test_the_persons_details_are_corrected_with_the_case_and_bad_ones_named(env):
    case = create_case(None, person_data(2), test_date=today(), symptom_onset_date=None)
    with pytest.raises(ValidationFailed) as refused:
        correct_case(None, case, reason="Wrong number", person=PersonData(phone="12345"))
    assert list(refused.value.errors) == ["person.phone"]
    corrected = correct_case(None, case, reason="Wrong number", person=PersonData(phone="07700 900222"))
    assert corrected.fields == ["phone"] and case.person.phone == "+447700900222"


def test_a_contact_is_corrected_within_the_cases_infectious_period(env):
    case = create_case(None, person_data(3), test_date=today(), symptom_onset_date=today() - 2 * D)
    contact = add_contact(None, case, person_data(4, address="9 Elsewhere Street"), relationship="close",
                          last_exposure_date=today() - D)
    with pytest.raises(ValidationFailed) as refused:
        correct_contact(None, contact, reason="Misheard", last_exposure_date=today() - 30 * D)
    assert "when the case was infectious" in refused.value.errors["last_exposure_date"][0]
    corrected = correct_contact(None, contact, reason="They live together", relationship="household",
                                last_exposure_date=today())
    assert corrected.fields == ["relationship", "last_exposure_date"]
    assert contact.quarantine_end_date == contact.policy.quarantine_end(today())
    assert contact.person.household_id == case.person.household_id  # moved into the case's household
    from tts.callqueue.models import WorkItem

    item = db.session.scalars(select(WorkItem).where(WorkItem.contact_id == contact.id)).one()
    assert item.band == 2  # a household contact's band


def test_planned_check_ins_move_with_the_corrected_dates(env):
    from tts.callqueue.models import WorkItem
    from tts.selfservice.models import CheckIn
    from tts.telephony.models import Message
    from tts.telephony.services import on_reached

    case = create_case(None, person_data(5), test_date=today(), symptom_onset_date=None)
    on_reached(None, db.session.scalars(select(WorkItem).where(WorkItem.case_id == case.id)).one())
    planned = db.session.scalars(select(Message).where(Message.trigger == "checkin").order_by(Message.id)).all()
    checkins = db.session.scalars(select(CheckIn).where(CheckIn.case_id == case.id).order_by(CheckIn.id)).all()
    assert [c.day for c in checkins] == [2, 5, 8] and [c.message_id for c in checkins] == [m.id for m in planned]
    first = [m.next_attempt_at for m in planned]
    correct_case(None, case, reason="Onset two days before the test", symptom_onset_date=today() - 2 * D)
    # Day 2 after the new start is today at 10:00: still to come only if it is before 10:00 now.
    moved = [m.next_attempt_at for m in planned if m.status == "queued"]
    assert moved[-2:] == [first[1] - 2 * D, first[2] - 2 * D]
    assert [c.send_on for c in checkins][-2:] == [today() + 3 * D, today() + 6 * D]
