"""A case's and a contact's lifecycle (tts/cases/lifecycle.py): reached, closed with a reason (its calls
cancelled, its escalations resolved), reopened, completed by the worker. On both databases."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tts.audit.models import AuditEvent
from tts.callqueue.models import ItemStatus, WorkItem
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_item, claim_next
from tts.cases import lifecycle
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.errors import ValidationFailed
from tts.escalation.models import Escalation
from tts.escalation.services import assign_visit, record_visit
from tts.extensions import db


@pytest.fixture
def env(app, daytime):
    with app.app_context():
        yield daytime


def new_case(n=1, **kw):
    return create_case(None, person_data(n, **kw), test_date=today(), symptom_onset_date=None)


def contact_of(case, n, relationship="close"):
    return add_contact(None, case, person_data(n, address=None, postcode=None), relationship=relationship,
                       last_exposure_date=today())


def items(subject) -> list[WorkItem]:
    column = WorkItem.case_id if hasattr(subject, "reference") else WorkItem.contact_id
    return list(db.session.scalars(select(WorkItem).where(column == subject.id)))


def reach(user, subject):
    item = items(subject)[0]
    claim_item(user, item)
    return record_attempt(user, item, outcome="reached")


def test_speaking_to_them_moves_a_case_to_isolating_and_a_contact_to_reached(env):
    tracer = UserFactory(role="tracer")
    case = new_case(1)
    contact = contact_of(case, 2)
    assert (case.status, contact.status) == ("open", "open")
    record_attempt(tracer, claim_item(tracer, items(case)[0]).item, outcome="no_answer")
    assert case.status == "open"  # not spoken to yet
    reach(tracer, contact)
    assert (case.status, contact.status) == ("open", "reached")


def test_reached_on_the_doorstep_counts_too(env):
    officer = UserFactory(role="tracer", is_field_officer=True)
    case = create_case(None, person_data(3, phone=None), test_date=today(), symptom_onset_date=None)
    escalation = db.session.scalars(select(Escalation).where(Escalation.person_id == case.person_id)).one()
    assign_visit(None, escalation, officer)
    record_visit(officer, escalation, outcome="reached")
    assert case.status == "isolating"


def test_closing_needs_a_reason_and_notes_for_another_reason(env):
    case = new_case(4)
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.close(None, case, reason=None)
    assert refused.value.errors == {"reason": ["Choose why it is being closed"]}
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.close(None, case, reason="other", notes="  ")
    assert refused.value.errors == {"notes": ["Say why it is being closed"]}
    assert case.status == "open"


def test_closing_cancels_the_waiting_calls_and_resolves_the_escalations(env):
    supervisor, tracer = UserFactory(role="supervisor"), UserFactory(role="tracer")
    case = new_case(5)
    no_phone = create_case(None, person_data(6, phone=None), test_date=today(), symptom_onset_date=None)
    lifecycle.close(supervisor, case, reason="duplicate", notes="Logged twice")
    lifecycle.close(supervisor, no_phone, reason="moved_away")
    assert case.status == "closed" and case.closure_reason == "duplicate" and case.closed_by_id == supervisor.id
    assert [i.status for i in items(case)] == [ItemStatus.CANCELLED]
    escalation = db.session.scalars(select(Escalation).where(Escalation.person_id == no_phone.person_id)).one()
    assert escalation.status == "resolved" and escalation.resolution == "Closed: Moved away"
    assert claim_next(tracer) is None  # nothing of theirs is handed out
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.close")
                               .order_by(AuditEvent.id)).first()
    assert event.details == {"person_id": case.person_id, "reason": "duplicate", "calls_cancelled": 1,
                             "escalations_resolved": 0}
    with pytest.raises(ValidationFailed, match="already closed"):
        lifecycle.close(supervisor, case, reason="refused")


def test_a_claimed_call_of_a_closed_record_is_no_longer_the_tracers(env):
    from tts.callqueue.errors import NotClaimHolder

    tracer = UserFactory(role="tracer")
    case = new_case(7)
    contact = contact_of(case, 8)
    item = claim_item(tracer, items(contact)[0]).item
    lifecycle.close(None, contact, reason="refused")
    assert case.status == "open" and contact.status == "closed"
    with pytest.raises(NotClaimHolder):
        record_attempt(tracer, item, outcome="reached")


def test_reopening_queues_a_first_call_again_unless_they_were_reached(env):
    supervisor, tracer = UserFactory(role="supervisor"), UserFactory(role="tracer")
    never = new_case(9)
    spoken = new_case(10, address="10 Other Street")
    reach(tracer, spoken)
    for record in (never, spoken):
        lifecycle.close(supervisor, record, reason="lost_to_follow_up")
    lifecycle.reopen(supervisor, never)
    lifecycle.reopen(supervisor, spoken)
    assert (never.status, never.closure_reason, never.closed_at) == ("open", None, None)
    assert sorted(i.status for i in items(never)) == ["cancelled", "open"]
    assert spoken.status == "isolating" and [i.status for i in items(spoken)] == ["done"]
    with pytest.raises(ValidationFailed, match="not closed"):
        lifecycle.reopen(supervisor, never)


def test_the_worker_completes_finished_records_once_a_day(env):
    from tts.worker import run_once

    tracer = UserFactory(role="tracer")
    done, waiting = new_case(11), new_case(12, address="12 Late Lane")
    contact = contact_of(done, 13)
    for subject in (done, waiting, contact):
        reach(tracer, subject)
    db.session.add(WorkItem(kind="follow_up", person_id=waiting.person_id, case_id=waiting.id, band=2,
                            due_at=env_now(), status="open"))
    db.session.commit()
    env.shift(timedelta(days=15))  # after every isolation and quarantine end
    assert run_once()["completed"] == 2
    db.session.refresh(done), db.session.refresh(waiting), db.session.refresh(contact)
    assert (done.status, contact.status, waiting.status) == ("completed", "completed", "isolating")
    assert run_once()["completed"] == 0  # once a day


def env_now():
    from tts.clock import utcnow

    return utcnow() + timedelta(days=30)


def test_the_kpis_count_each_status_and_each_closure_reason(env):
    from tts.reports.filters import Filters
    from tts.reports.kpis import compute

    tracer = UserFactory(role="tracer")
    reached, closed, waiting = new_case(20), new_case(21, address="21 Closed Close"), new_case(22, address="22 Wait Way")
    contact = contact_of(waiting, 23)
    reach(tracer, reached)
    lifecycle.close(None, closed, reason="refused")
    lifecycle.close(None, contact, reason="entered_in_error")
    figures = compute(Filters(today(), today()))["lifecycle"]
    assert figures["cases"] == {"by_status": {"isolating": 1, "closed": 1, "open": 1},
                                "closed_by_reason": {"refused": 1}}
    assert figures["contacts"] == {"by_status": {"closed": 1}, "closed_by_reason": {"entered_in_error": 1}}


def test_a_contact_who_tests_positive_becomes_a_case_linked_to_the_one_they_caught_it_from(env):
    from tts.cases.services import convert_contact

    tracer = UserFactory(role="tracer")
    source = new_case(30)
    contact = contact_of(source, 31, relationship="household")
    person = contact.person
    assert person.date_of_birth is not None  # person_data gives one
    case = convert_contact(tracer, contact, test_date=today(), symptom_onset_date=None)
    assert case.person is person and case.exposed_by_case_id == source.id and case.status == "open"
    assert contact.status == "became_case" and contact.became_case_id == case.id
    assert [i.status for i in items(contact)] == ["cancelled"]
    assert [(i.kind, i.status) for i in items(case)] == [("initial_call", "open")]
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.record_id.in_([case.id, contact.id]),
                                                                      AuditEvent.action.like("%.c%"))))
    assert "contact.convert" in actions and "case.create" in actions
    with pytest.raises(ValidationFailed, match="already became a case"):
        convert_contact(tracer, contact, test_date=today(), symptom_onset_date=None)
    with pytest.raises(ValidationFailed, match="became a case"):
        lifecycle.close(tracer, contact, reason="duplicate")


def test_converting_asks_for_what_a_case_needs_that_the_contact_lacks(env):
    from tts.cases.services import convert_contact
    from tts.people.validation import PersonData

    source = new_case(32)
    contact = add_contact(None, source, person_data(33, date_of_birth=None, address=None, postcode=None),
                          relationship="close", last_exposure_date=today())
    with pytest.raises(ValidationFailed) as refused:
        convert_contact(None, contact, test_date=None, symptom_onset_date=None)
    assert set(refused.value.errors) == {"test_date", "person.date_of_birth", "person.address", "person.postcode"}
    assert contact.status == "open"
    born = today().replace(year=1980)
    case = convert_contact(None, contact, test_date=today(), symptom_onset_date=None,
                           person=PersonData(date_of_birth=born, address="3 New Road", postcode="s2 4su"))
    assert (case.person.date_of_birth, case.person.postcode, case.person.household_id is not None) == (
        born, "S2 4SU", True)
