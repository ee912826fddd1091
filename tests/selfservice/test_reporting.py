"""Reached by text is counted apart from reached by call or visit, in the KPIs and the contacts export."""
from datetime import timedelta

from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tests.selfservice.conftest import link_texted_to
from tts.callqueue.models import WorkItem
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_item
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.extensions import db
from tts.reports.filters import Filters
from tts.reports.kpis import compute, publication_rows
from tts.selfservice.links import find_link
from tts.selfservice.services import contact_respond


def test_a_text_confirmation_is_reached_by_text_not_by_call(app, daytime):
    with app.app_context():
        case = create_case(None, person_data(301), test_date=today(), symptom_onset_date=None)
        by_text = add_contact(None, case, person_data(302), relationship="close", last_exposure_date=today())
        by_call = add_contact(None, case, person_data(303), relationship="close", last_exposure_date=today())
        add_contact(None, case, person_data(304), relationship="close", last_exposure_date=today())
        db.session.flush()
        daytime.shift(timedelta(hours=2))
        contact_respond(find_link(link_texted_to(by_text.person_id, "contact_advice")), "confirmed")
        tracer = UserFactory(role="tracer")
        item = db.session.scalar(select(WorkItem).where(WorkItem.contact_id == by_call.id))
        claim_item(tracer, item)
        record_attempt(tracer, item, outcome="reached")
        db.session.flush()
        assert (by_text.reached_by, by_call.reached_by) == ("text", "call")
        k = compute(Filters(today(), today()))["contacts"]
        assert (k["total"], k["reached"], k["reached_by_text"], k["reached_any"]) == (3, 1, 1, 2)
        assert k["reached_by_text_within_24h"] == 1 and k["reached_any_within_24h_pct"] == 66.7
        header = publication_rows(compute(Filters(today(), today())), threshold=1)[0]
        assert "reached_by_text" in header


def test_the_contacts_export_says_who_named_them_and_how_they_were_reached(app, daytime):
    from tts.reports.datasets import dataset

    with app.app_context():
        columns = dataset("contacts", Filters(today(), today()), identifiable=False).columns
        assert {"status", "source", "reached_by"} <= set(columns)
