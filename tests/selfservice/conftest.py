import re

import pytest
from sqlalchemy import select

from tests.factories import person_data
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.telephony.models import Message

LINK = re.compile(r"/s/([A-Za-z0-9_-]{20,})")


def token_in(body: str) -> str:
    match = LINK.search(body)
    assert match, f"no personal link in {body!r}"
    return match.group(1)


def link_texted_to(person_id: int, trigger: str) -> str:
    body = db.session.scalar(select(Message.body).where(Message.person_id == person_id, Message.trigger == trigger)
                             .order_by(Message.id.desc()))
    return token_in(body)


@pytest.fixture
def texted_case(app, ctx, daytime):
    """A case logged by staff, with the token from their introduction text."""
    with ctx():
        case = create_case(None, person_data(11), test_date=today(), symptom_onset_date=None)
        db.session.flush()
        token = link_texted_to(case.person_id, "introduction")
        ids = {"case_id": case.id, "person_id": case.person_id, "dob": case.person.date_of_birth}
    return token, ids


def dob_form(dob) -> dict:
    return {"date_of_birth-day": str(dob.day), "date_of_birth-month": str(dob.month),
            "date_of_birth-year": str(dob.year)}
