"""Texts in the person's language: a translation where there is one (and it is on), English otherwise; set
at intake, on the API, from an import column; translations awaiting review until an admin confirms them."""
import re

import pytest
from sqlalchemy import select

from tests.factories import person_data
from tests.imports.test_set_based import _dump
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.imports.services import COLUMNS, create_batch, run_import
from tts.people.languages import SHIPPED
from tts.people.models import Person
from tts.telephony.models import Message, MessageTemplate
from tts.telephony.services import get_template, update_template


@pytest.fixture
def env(app, daytime):
    with app.app_context():
        yield daytime


def intro_of(person_id):
    return db.session.scalar(select(Message).where(Message.person_id == person_id, Message.trigger == "introduction"))


def test_every_text_ships_in_english_welsh_and_sheffields_main_languages_awaiting_review(env):
    rows = db.session.scalars(select(MessageTemplate)).all()
    triggers = {t.trigger for t in rows if t.language == "en"}
    for code in SHIPPED:
        assert {t.trigger for t in rows if t.language == code} == triggers, code
    assert all(t.needs_review for t in rows if t.language != "en")
    assert not any(t.needs_review for t in rows if t.language == "en")
    # Every translation keeps the placeholders the English one has: none is lost in translation.
    english = {t.trigger: set(re.findall(r"\{[a-z_]+\}", t.body)) for t in rows if t.language == "en"}
    for t in rows:
        assert set(re.findall(r"\{[a-z_]+\}", t.body)) == english[t.trigger], (t.trigger, t.language)


def test_a_person_with_a_language_gets_the_translation_with_their_link(env):
    case = create_case(None, person_data(201, language="pl"), test_date=today(), symptom_onset_date=None)
    body = intro_of(case.person_id).body
    assert body.startswith("Dzień dobry") and "/s/" in body


def test_no_translation_or_one_turned_off_means_english(env):
    persian = create_case(None, person_data(202, language="fa"), test_date=today(), symptom_onset_date=None)
    assert intro_of(persian.person_id).body.startswith("Hello")
    welsh = get_template("introduction", "cy")
    welsh.is_enabled = False
    db.session.flush()
    from tts.cache import forget_for_transaction

    forget_for_transaction()
    case = create_case(None, person_data(203, language="cy"), test_date=today(), symptom_onset_date=None)
    assert intro_of(case.person_id).body.startswith("Hello")


def test_a_translation_writes_the_date_in_numbers(env):
    from tts.telephony.services import template_values

    case = create_case(None, person_data(204, language="ar"), test_date=today(), symptom_onset_date=None)
    end = case.isolation_end_date
    assert template_values(case.person, case, language="ar")["end_date"] == f"{end.day}/{end.month}/{end.year}"
    assert template_values(case.person, case)["end_date"] == f"{end:%A %-d %B}"


def test_an_unknown_language_is_refused_naming_the_field(env):
    from tts.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        create_case(None, person_data(205, language="Klingon"), test_date=today(), symptom_onset_date=None)
    assert "person.language" in refused.value.errors
    case = create_case(None, person_data(206, language="Polish"), test_date=today(), symptom_onset_date=None)
    assert case.person.language == "pl"  # a name is read as its code


def test_the_api_takes_a_language_and_answers_it(client, api_token, daytime):
    from tests.api.test_cases_api import case_body

    headers, _ = api_token("tracer")
    body = case_body(language="ur")
    created = client.post("/api/v1/cases", json=body, headers=headers)
    assert created.status_code == 201 and created.json["person"]["language"] == "ur"
    top = case_body(phone="07700 900331", first_name="Ione", last_name="Tallow")
    top["language"] = "so"
    assert client.post("/api/v1/cases", json=top, headers=headers).json["person"]["language"] == "so"
    bad = client.post("/api/v1/cases", json=case_body(phone="07700 900332", language="xx"), headers=headers)
    assert bad.status_code == 422 and "person.language" in bad.json["errors"]


def test_an_import_column_sets_the_language_on_both_import_paths(app, env):
    header = ",".join((*COLUMNS, "language"))
    day = today().isoformat()
    content = header + "\n" + f"LG-1,case,Aneta,Kowal,1985-05-05,07700 900741,,7 Bramble Way,S2 3DA,{day},,,,,pl\n"
    for set_based in (False, True):
        app.config["TTS_IMPORT_SET_BASED"] = set_based
        savepoint = db.session.begin_nested()
        try:
            batch = create_batch(None, "lang.csv", content)
            run_import(None, batch)
            assert batch.status == "completed", batch.errors
            person = db.session.scalar(select(Person).where(Person.last_name == "Kowal"))
            assert person.language == "pl"
            assert intro_of(person.id).body.startswith("Dzień dobry")
            assert _dump()["messages"]  # the set-based path wrote the same kind of rows
        finally:
            savepoint.rollback()
            app.config.pop("TTS_IMPORT_SET_BASED", None)
    bad = create_batch(None, "lang.csv", content.replace(",pl\n", ",zz\n"))
    run_import(None, bad)
    assert bad.status == "rejected" and [(e["row"], e["column"]) for e in bad.errors] == [(2, "language")]


def test_an_admin_confirms_a_translation_was_reviewed(app, admin_client, ctx):
    with ctx():
        template_id = db.session.scalar(select(MessageTemplate.id).where(
            MessageTemplate.trigger == "missed_call", MessageTemplate.language == "pl"))
    page = admin_client.get(f"/admin/templates/{template_id}").get_data(as_text=True)
    assert "Awaiting review by a translator" in page and "The English text" in page
    with ctx():
        body = db.session.get(MessageTemplate, template_id).body
    assert admin_client.post(f"/admin/templates/{template_id}", data={
        "body": body, "is_enabled": "y", "reviewed": "y"}).status_code == 302
    with ctx():
        template = db.session.get(MessageTemplate, template_id)
        assert template.needs_review is False and template.reviewed_at is not None
        # Changed again without the box: awaiting review once more.
        update_template(None, template, body=body + " ", is_enabled=True, reviewed=False)
        assert template.needs_review is True
