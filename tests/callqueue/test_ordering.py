"""Property: "Next" hands items out in exactly the order docs/design.md gives, whatever the queue holds."""
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tts.callqueue.models import ItemStatus, WorkItem
from tts.callqueue.bands import compute_band
from tts.callqueue.services import claim_next
from tts.cases.services import add_contact, create_case
from tts.clock import today, utcnow
from tts.extensions import db

item_spec = st.fixed_dictionaries({
    "callback": st.booleans(),
    "relationship": st.sampled_from(["household", "close", "setting"]),
    "vulnerable": st.booleans(),
    "household_raised": st.booleans(),
    "due_minutes_ago": st.integers(min_value=-30, max_value=600),  # negative: not yet due
    "assignee": st.sampled_from(["none", "me", "other"]),
})


def expected_band(spec) -> int:
    base = 1 if spec["callback"] else (2 if spec["relationship"] == "household" else 3)
    return max(1, base - spec["vulnerable"] - spec["household_raised"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(item_spec, min_size=1, max_size=10))
def test_claim_order_is_band_then_assigned_then_due_then_id(app, daytime, specs):
    with app.app_context():
        nested = db.session.begin_nested()
        try:
            me, other = UserFactory(role="tracer"), UserFactory(role="tracer")
            case = create_case(None, person_data(11, last_name="Casey"), test_date=today(), symptom_onset_date=None)
            db.session.scalars(select(WorkItem).where(WorkItem.case_id == case.id)).one().status = ItemStatus.DONE
            items = []
            for n, spec in enumerate(specs):
                # Each contact has their own phone and no address, so no two are claimed together.
                contact = add_contact(None, case, person_data(n, phone=f"07700 900{500 + n}", address=None,
                                                              postcode=None,
                                                              last_name=f"Property{n}"),
                                      relationship=spec["relationship"], last_exposure_date=today())
                contact.person.household_id = None
                contact.person.is_vulnerable = spec["vulnerable"]
                item = db.session.scalars(select(WorkItem).where(WorkItem.contact_id == contact.id)).one()
                item.kind = "callback" if spec["callback"] else "initial_call"
                item.is_household_raised = spec["household_raised"]
                item.due_at = utcnow() - timedelta(minutes=spec["due_minutes_ago"])
                item.assignee_id = {"none": None, "me": me.id, "other": other.id}[spec["assignee"]]
                item.band = compute_band(item, contact.person)
                assert item.band == expected_band(spec)
                items.append((item, spec))
            db.session.flush()

            eligible = [(i, s) for i, s in items if s["due_minutes_ago"] >= 0 and s["assignee"] != "other"]
            expected = [i.id for i, s in sorted(eligible, key=lambda p: (
                expected_band(p[1]), 0 if p[1]["assignee"] == "me" else 1, p[0].due_at, p[0].id))]
            handed = []
            while (claim := claim_next(me)) is not None:
                assert claim.also_claimed == []
                handed.append(claim.item.id)
            assert handed == expected
        finally:
            nested.rollback()
