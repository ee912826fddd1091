"""Possible duplicates and merging (tts/people/duplicates.py, merging.py): twins are never listed, every
record moves, the merged-away id answers "merged into N". Both databases."""
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import sign_in
from tests.factories import UserFactory, person_data
from tts.callqueue.models import CallAttempt, WorkItem
from tts.cases.models import Case, Contact, Correction
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.people.duplicates import dismiss, possible_duplicates
from tts.people.merging import MOVES, merge_person
from tts.people.models import Note, Person
from tts.people.notes import add_note
from tts.support.models import SupportNeed
from tts.telephony.models import Message


@pytest.fixture
def env(app, daytime):
    with app.app_context():
        yield daytime


def person(first, last, *, phone="07700 900500", born=date(1980, 5, 4), email=None, postcode="S1 2HH"):
    row = Person(first_name=first, last_name=last, phone=phone and "+44" + phone.replace(" ", "")[1:],
                 date_of_birth=born, email=email, postcode=postcode, address="1 Fable Row, Sheffield")
    db.session.add(row)
    db.session.flush()
    return row


def pairs():
    return {(tuple(sorted((p.person.id, p.other.id))), tuple(p.reasons)) for p in possible_duplicates()}


def test_possible_duplicates_name_their_reasons_and_never_pair_twins(env):
    boss = UserFactory(role="supervisor")
    jon, john = person("Jon", "Harrowgate"), person("John", "Harrowgate")  # one man, twice (phone, DOB)
    ava, mia = person("Ava", "Linthwaite", phone="07700 900501"), person("Mia", "Linthwaite", phone="07700 900501")
    same_a = person("Oriel", "Banfield", phone="07700 900502")
    same_b = person("oriel", "BANFIELD", phone=None)  # typed again without a phone
    mail_a = person("Sefton", "Carrow", phone="07700 900503", email="sefton@example.org")
    mail_b = person("Seft", "Carrow-Hill", phone="07700 900504", email="SEFTON@example.org")
    person("Oriel", "Banfield", born=date(1981, 5, 4), phone=None)  # another date of birth: someone else
    found = pairs()
    assert ((jon.id, john.id), ("same_phone_and_date_of_birth",)) in found
    assert ((same_a.id, same_b.id), ("same_name_and_date_of_birth",)) in found
    assert ((mail_a.id, mail_b.id), ("same_email",)) in found
    assert not any(ids == (ava.id, mia.id) for ids, _ in found)  # twins on a parent's phone
    assert len(found) == 3
    dismiss(boss, mail_b, mail_a)
    assert len(pairs()) == 2


def test_every_foreign_key_to_people_is_handled_by_a_merge():
    """A new table that refers to people must say what a merge does with it (MOVES)."""
    from tts.extensions import db as database

    referring = {(table.name, fk.parent.name) for table in database.metadata.sorted_tables
                 for fk in table.foreign_keys if fk.column.table.name == "people"}
    assert referring == set(MOVES)


def test_a_merge_moves_every_record_and_the_old_id_answers_merged_into(env):
    boss = UserFactory(role="supervisor")
    case = create_case(None, person_data(1, first_name="Jon", last_name="Harrowgate"), test_date=today(),
                       symptom_onset_date=None)
    kept = case.person
    other_case = create_case(None, person_data(2), test_date=today(), symptom_onset_date=None)
    # The same man, typed again as a contact of another case, with a different phone and no address.
    dup_contact = add_contact(None, other_case, person_data(9, first_name="John", last_name="Harrowgate",
                                                            date_of_birth=kept.date_of_birth, email="jon@example.org",
                                                            address=None, postcode=None),
                              relationship="close", last_exposure_date=today())
    gone = dup_contact.person
    assert gone.id != kept.id
    # The kept record is a contact of that case too: after the merge the case would name him twice.
    add_contact(None, other_case, person_data(1, first_name="Jon", last_name="Harrowgate"),
                relationship="close", last_exposure_date=today())
    third_case = create_case(None, person_data(3), test_date=today(), symptom_onset_date=None)
    moving = add_contact(None, third_case, person_data(9, first_name="John", last_name="Harrowgate",
                                                       date_of_birth=kept.date_of_birth, address=None, postcode=None),
                         relationship="close", last_exposure_date=today())
    assert moving.person_id == gone.id
    add_note(boss, gone, "Works nights")
    db.session.add(SupportNeed(person_id=gone.id, kind="food", urgency="routine", status="requested"))
    db.session.add(Correction(person_id=gone.id, fields=["phone"], reason="typo"))
    db.session.flush()
    before = {name: db.session.scalar(select(func.count()).select_from(model).where(model.person_id == gone.id))
              for name, model in (("work_items", WorkItem), ("notes", Note), ("support", SupportNeed),
                                  ("messages", Message), ("contacts", Contact))}
    assert before["work_items"] and before["notes"] and before["support"] and before["contacts"]

    merge_person(boss, gone, kept)
    db.session.flush()
    for model in (Case, WorkItem, CallAttempt, Note, SupportNeed, Correction, Message):
        assert db.session.scalar(select(func.count()).select_from(model).where(model.person_id == gone.id)) == 0, model
    # The one record that cannot move (the case already names the kept person) is closed as a duplicate.
    left = db.session.scalars(select(Contact).where(Contact.person_id == gone.id)).all()
    assert [(c.case_id, c.status, c.closure_reason) for c in left] == [(other_case.id, "closed", "duplicate")]
    gone = db.session.get(Person, gone.id)
    assert gone.merged_into_id == kept.id and gone.merged_at is not None and gone.household_id is None
    kept = db.session.get(Person, kept.id)
    assert kept.email == "jon@example.org"  # filled in from the merged record
    contacts = db.session.scalars(select(Contact).where(Contact.case_id == other_case.id,
                                                        Contact.person_id == kept.id)).all()
    assert [c.status for c in contacts] == ["open"]
    assert db.session.get(Contact, moving.id).person_id == kept.id
    with pytest.raises(ValidationFailed):
        merge_person(boss, gone, kept)  # already merged


def test_merging_through_the_api_and_the_web(app, client, api_token, make_user, daytime):
    headers, _ = api_token("supervisor")
    with app.app_context():
        a = person("Jon", "Harrowgate")
        b = person("John", "Harrowgate")
        c = person("Mab", "Quarrie", phone="07700 900510")
        d = person("Mab", "Quarrie", phone=None)
        db.session.commit()
        a_id, b_id, c_id, d_id = a.id, b.id, c.id, d.id
    listed = client.get("/api/v1/people/duplicates", headers=headers)
    assert listed.status_code == 200
    assert {"people": [a_id, b_id], "reasons": ["same_phone_and_date_of_birth"]} in listed.get_json()
    bad = client.post(f"/api/v1/people/{b_id}/merge", headers=headers, json={"into": b_id})
    assert bad.status_code == 422 and "into" in bad.get_json()["errors"]
    merged = client.post(f"/api/v1/people/{b_id}/merge", headers=headers, json={"into": a_id})
    assert merged.status_code == 200 and merged.get_json()["id"] == a_id
    gone = client.get(f"/api/v1/people/{b_id}", headers=headers)
    assert gone.status_code == 410 and gone.get_json()["merged_into"] == a_id
    tracer_headers, _ = api_token("tracer")
    assert client.get("/api/v1/people/duplicates", headers=tracer_headers).status_code == 403
    assert client.post(f"/api/v1/people/{d_id}/merge", headers=tracer_headers, json={"into": c_id}).status_code == 403

    boss = make_user("supervisor")
    sign_in(client, boss)
    page = client.get("/people/duplicates").get_data(as_text=True)
    assert "Mab Quarrie" in page and "Jon Harrowgate" not in page
    compare = client.get(f"/people/{c_id}/merge?with={d_id}")
    assert compare.status_code == 200 and "Keep record" in compare.get_data(as_text=True)
    unchosen = client.post(f"/people/{c_id}/merge?with={d_id}", data={})
    assert unchosen.status_code == 400 and 'href="#keep"' in unchosen.get_data(as_text=True)
    done = client.post(f"/people/{c_id}/merge?with={d_id}", data={"keep": str(c_id)})
    assert done.status_code == 302 and done.location.endswith(f"/people/{c_id}")
    old = client.get(f"/people/{d_id}")
    assert old.status_code == 302 and old.location.endswith(f"/people/{c_id}")
    assert "merged into this one" in client.get(old.location).get_data(as_text=True)
