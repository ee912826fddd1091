"""Retention: people whose records closed more than 90 days ago are anonymised; KPIs stay identical."""
from datetime import date

import pytest
from sqlalchemy import select

from tests.reports.test_kpis import scenario  # noqa: F401  (the fixture: a hand-checked KPI scenario)
from tts.callqueue.models import CallAttempt, WorkItem
from tts.extensions import db
from tts.people import retention
from tts.people.models import Household, Note, Person
from tts.reports.datasets import dataset
from tts.reports.exporting import rows
from tts.reports.filters import Filters
from tts.reports.kpis import compute, publication_rows
from tts.telephony.models import Message


def _figures() -> dict:
    filters = [Filters(date(2026, 3, 28), date(2026, 3, 28)), Filters(date(2026, 3, 29), date(2026, 3, 29)),
               Filters(date(2026, 3, 1), date(2026, 3, 31)), Filters(date(2026, 3, 1), date(2026, 3, 31), district="S6"),
               Filters(date(2026, 3, 1), date(2026, 3, 31), district="S10")]
    kpis = [compute(f) for f in filters]
    exports = {name: list(rows(dataset(name, filters[2], identifiable=False), date(2026, 11, 23)))
               for name in ("cases", "contacts", "attempts")}
    return {"kpis": kpis, "publication": [publication_rows(k, 5) for k in kpis], "exports": exports}


@pytest.fixture
def notes_and_texts(app, scenario):  # noqa: F811
    with app.app_context():
        for attempt in db.session.scalars(select(CallAttempt)):
            attempt.notes = "Spoke to Ada at 1 Moor Lane; her neighbour Bram helps"
        first = db.session.scalars(select(Person).order_by(Person.id)).first()
        db.session.add(Message(person_id=first.id, direction="outbound", body="Hello Ada, this is the council",
                               to_number=first.phone, status="delivered"))
        db.session.add(Note(person_id=first.id, text="Ada's daughter Cleo collects her shopping"))
        from tts.cases.models import Case
        from tts.letters.models import Letter
        from tts.outbreaks.models import SettingMention

        for case in db.session.scalars(select(Case)):  # a letter and a place named, for every case
            db.session.add(Letter(kind="isolation_note", case_id=case.id, content_hash="0" * 64, pdf=b"%PDF Ada",
                                  pdf_bytes=8, email_to="ada@example.org"))
            db.session.add(SettingMention(case_id=case.id, text="Ada's work at Moor Mill", source="self_service"))
        from tts.cases.models import Contact

        for contact in db.session.scalars(select(Contact)):
            db.session.add(Letter(kind="quarantine_letter", contact_id=contact.id, content_hash="0" * 64,
                                  pdf=b"%PDF Ada", pdf_bytes=8))
        db.session.commit()


def test_retention_anonymises_closed_people_and_keeps_every_figure(app, notes_and_texts, daytime):
    with app.app_context():
        before = _figures()
        open_people = set(db.session.scalars(select(WorkItem.person_id).where(WorkItem.closed_at.is_(None))))
        assert open_people  # the never-reached close contact is still being traced: it must be kept

        dry = retention.run(dry_run=True)
        db.session.rollback()
        assert dry.people and not set(dry.people) & open_people
        assert db.session.scalar(select(Person.first_name).where(Person.id == dry.people[0])) != "Anonymised"

        report = retention.run()
        db.session.commit()
        assert report.people == dry.people and report.notes > 0 and report.messages > 1

        for person in db.session.scalars(select(Person).where(Person.id.in_(report.people))):
            assert person.first_name == "Anonymised" and person.last_name == ""
            assert person.phone is None and person.email is None and person.address is None
            assert person.date_of_birth is None and person.age_band and person.anonymised_at
            assert person.postcode is None or " " not in person.postcode  # the district only
        for person in db.session.scalars(select(Person).where(Person.id.in_(open_people))):
            assert person.first_name != "Anonymised" and person.phone  # still being traced: untouched
        notes = db.session.scalars(select(CallAttempt.notes).where(CallAttempt.person_id.in_(report.people))).all()
        assert notes and all("Ada" not in n for n in notes)
        texts = db.session.scalars(select(Note.text).where(Note.person_id.in_(report.people))).all()
        assert texts and all("Ada" not in t for t in texts)
        messages = db.session.scalars(select(Message).where(Message.person_id.in_(report.people))).all()
        assert messages and all("Ada" not in m.body and m.to_number is None for m in messages)
        from tts.cases.models import Case
        from tts.letters.models import Letter
        from tts.outbreaks.models import SettingMention

        theirs = select(Case.id).where(Case.person_id.in_(report.people))
        letters = db.session.scalars(select(Letter).where(Letter.case_id.in_(theirs))).all()
        assert letters and all(x.pdf is None and x.pdf_bytes == 0 and x.email_to is None for x in letters)
        places = db.session.scalars(select(SettingMention.text).where(SettingMention.case_id.in_(theirs))).all()
        assert places and all("Ada" not in t for t in places)
        from tts.cases.models import Contact

        kept = db.session.scalars(select(Letter.pdf).join(Contact, Contact.id == Letter.contact_id)
                                  .where(Contact.person_id.in_(open_people))).all()
        assert kept and all(k == b"%PDF Ada" for k in kept)  # people still being traced keep theirs
        for household in db.session.scalars(select(Household).where(Household.id.in_(report.households))):
            assert "Moor" not in household.address and " " not in household.postcode

        after = _figures()
        assert after == before  # every KPI, publication table and pseudonymous export, identical

        assert retention.run().people == []  # nothing left to do: running it again changes nothing


def test_retention_cli_dry_run_lists_and_changes_nothing(app, notes_and_texts, daytime):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0 and "Dry run: would anonymise" in result.output and "Person ids:" in result.output
    with app.app_context():
        assert "Anonymised" not in db.session.scalars(select(Person.first_name)).all()
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0 and result.output.startswith("Anonymised ")
    with app.app_context():
        assert "Anonymised" in db.session.scalars(select(Person.first_name)).all()


def test_nothing_recent_is_touched(app, notes_and_texts, daytime):
    with app.app_context():
        assert retention.run(days=10_000).people == []  # everything closed less than 10,000 days ago


def test_the_worker_runs_retention_once_a_day(app, notes_and_texts, daytime):
    from tts.worker import run_once

    with app.app_context():
        first = run_once()
        second = run_once()
        assert first["anonymised"] > 0 and second["anonymised"] == 0
