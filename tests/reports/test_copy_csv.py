"""CSV exports through PostgreSQL's COPY give the same bytes as the Python path, for every dataset, with
values chosen to catch every transformation: formula guards, quoting, empty text, dates of birth around
the export date, times with and without microseconds, household and other contacts."""
from datetime import UTC, date, datetime

import pytest

from tts.callqueue.models import CallAttempt, WorkItem
from tts.cases.models import Case, Contact
from tts.escalation.models import Escalation
from tts.extensions import db
from tts.outbreaks.models import Outbreak, OutbreakCase, Setting, SettingLink
from tts.people.models import Household, Person
from tts.reports.copy_csv import _hmac_pads, copy_csv_chunks, uses_copy
from tts.reports.datasets import DATASETS, dataset, pseudonym
from tts.reports.exporting import csv_chunks
from tts.reports.filters import Filters
from tts.support.models import SupportNeed

ON = date(2026, 11, 23)
AWKWARD = ["=SUM(A1)", "+44 trick", "-minus", "@at", "\tTab", "\rReturn", 'He said "hi"', "comma, inside",
           "new\nline", "", "plain", "carriage\rinside", " leading space", "Zoë Ærøskøbing", "\\."]


@pytest.fixture
def awkward(ctx, make_user):
    tracer = make_user("tracer")
    times = [datetime(2026, 11, 23, 9, 30, 0, tzinfo=UTC), datetime(2026, 11, 23, 9, 30, 1, 250, tzinfo=UTC),
             datetime(2026, 11, 23, 23, 59, 59, 999999, tzinfo=UTC)]
    births = [None, date(2020, 11, 23), date(2020, 11, 24), date(1944, 2, 29), date(2027, 1, 1), date(2009, 11, 22),
              date(1936, 6, 1)]
    with ctx():
        home = Household(address="1 Copy Row", postcode="S1 2HH")
        db.session.add(home)
        db.session.flush()
        people = []
        for i, value in enumerate(AWKWARD):
            people.append(Person(first_name=value, last_name=AWKWARD[-1 - i], date_of_birth=births[i % len(births)],
                                 phone=f"+4477009001{i:02d}" if i % 3 else None, email=value or None,
                                 address=value, postcode=["S1 2HH", "=S2", "", None, "S10 2TN"][i % 5],
                                 age_band=[None, "18-29", "=x"][i % 3], household_id=home.id if i % 2 else None,
                                 created_at=times[0], updated_at=times[0]))
        db.session.add_all(people)
        db.session.flush()
        first = Case(reference="C-COPY-1", person_id=people[0].id, test_date=ON, isolation_end_date=date(2026, 12, 3),
                     policy_id=1, status=AWKWARD[0], source="local", created_at=times[1])
        db.session.add(first)
        db.session.flush()
        for i, person in enumerate(people[1:], start=1):
            time = times[i % 3]
            db.session.add(Case(reference=f"C-COPY-{i + 1}", person_id=person.id, test_date=ON,
                                isolation_end_date=date(2026, 12, 3), policy_id=1, source="local",
                                status=AWKWARD[i], created_at=time, symptom_onset_date=ON if i % 2 else None))
            contact = Contact(case_id=first.id, person_id=person.id,
                              relationship_="household" if i % 2 else AWKWARD[i], last_exposure_date=ON,
                              quarantine_end_date=date(2026, 12, 3), policy_id=1, created_at=time)
            db.session.add(contact)
            db.session.flush()
            item = WorkItem(kind="contact", contact_id=contact.id, person_id=person.id, band=1, due_at=time, created_at=time)
            db.session.add(item)
            db.session.flush()
            db.session.add(CallAttempt(work_item_id=item.id, person_id=person.id, tracer_id=tracer["id"],
                                       outcome=AWKWARD[i], notes=AWKWARD[-i], call_status=AWKWARD[i - 1] or None,
                                       duration_seconds=i * 7 if i % 2 else None, created_at=time))
            db.session.add(Escalation(person_id=person.id, reason=AWKWARD[i], visit_outcome=AWKWARD[-i] or None,
                                      created_at=time, resolved_at=times[(i + 1) % 3] if i % 2 else None))
            db.session.add(SupportNeed(person_id=person.id, kind=AWKWARD[i], referred_to=AWKWARD[-i],
                                       notes=AWKWARD[i - 1], created_at=time, updated_at=time,
                                       closed_at=time if i % 2 else None))
            # A setting of awkward name, kind and postcode for each, and an outbreak at each.
            setting = Setting(name=AWKWARD[i] or "x", name_key=f"copy {i}", kind=(AWKWARD[-i] or "other")[:20],
                              postcode=["S1 2HH", "=S2", "S10 2TN"][i % 3], created_at=time)
            db.session.add(setting)
            db.session.flush()
            db.session.add(SettingLink(setting_id=setting.id, case_id=first.id if i == 1 else None,
                                       contact_id=None if i == 1 else contact.id, created_at=time))
            outbreak = Outbreak(reference=f"OB-COPY{i}", setting_id=setting.id, status=AWKWARD[i][:12],
                                opened_at=time, opened_by_id=None if i % 4 == 1 else tracer["id"],
                                closed_at=times[(i + 1) % 3] if i % 3 else None)
            db.session.add(outbreak)
            db.session.flush()
            if i % 3:
                db.session.add(OutbreakCase(outbreak_id=outbreak.id, case_id=first.id, added_at=time))


@pytest.mark.parametrize("identifiable", [False, True])
@pytest.mark.parametrize("name", DATASETS)
def test_copy_gives_the_same_bytes_as_the_python_path(app, awkward, is_postgres, name, identifiable):
    if not is_postgres:
        pytest.skip("COPY is PostgreSQL's")
    with app.app_context():
        ds = dataset(name, Filters(ON, ON), identifiable)
        by_python = "".join(csv_chunks(ds, ON)).encode()
        by_copy = b"".join(copy_csv_chunks(ds, ON, chunk_bytes=100))  # small chunks: the joins are tested too
        assert by_python.count(b"\n") > len(AWKWARD)  # the data is there (and some values hold a newline)
        assert by_copy.decode().split("\r\n") == by_python.decode().split("\r\n")  # line by line: a readable diff
        assert by_copy == by_python


def test_exports_use_copy_on_postgresql_only(app, is_postgres):
    with app.app_context():
        assert uses_copy() is is_postgres


def test_the_pseudonym_is_the_same_hmac_in_sql(app, is_postgres):
    """The padded keys are HMAC's (RFC 2104), also for a secret longer than a SHA-256 block."""
    import hashlib
    import hmac

    for secret in ("short", "x" * 100):
        inner, outer = _hmac_pads(secret)
        expected = hmac.new(secret.encode(), b"person:42", hashlib.sha256).digest()
        assert hashlib.sha256(outer + hashlib.sha256(inner + b"person:42").digest()).digest() == expected
    with app.app_context():
        assert pseudonym(42).startswith("P") and len(pseudonym(42)) == 17


@pytest.mark.parametrize("identifiable", [False, True])
@pytest.mark.parametrize("name", DATASETS)
def test_spreadsheet_rows_formatted_by_the_database_are_the_python_ones(app, awkward, is_postgres, name,
                                                                         identifiable):
    """XLSX on PostgreSQL takes its values from the same SQL: equal to the Python path's, a blank ''
    being a blank None."""
    from tts.reports.copy_csv import sql_rows
    from tts.reports.exporting import rows

    if not is_postgres:
        pytest.skip("PostgreSQL formats the values")
    with app.app_context():
        ds = dataset(name, Filters(ON, ON), identifiable)
        by_python = [[None if v == "" else v for v in row] for row in rows(ds, ON)]
        by_sql = [list(row) for row in sql_rows(ds, ON)]
        assert len(by_python) >= len(AWKWARD) - 1
        assert by_sql == by_python


def test_an_export_runs_in_one_process_with_its_own_timeout(app, awkward, is_postgres):
    """No parallel workers for an export (the call queue keeps a core), and a timeout long enough for COPY."""
    from sqlalchemy import text

    if not is_postgres:
        pytest.skip("PostgreSQL settings")
    with app.app_context():
        ds = dataset("cases", Filters(ON, ON), False)
        chunks = copy_csv_chunks(ds, ON)
        next(chunks)  # the header: the transaction is set up by now
        settings = db.session.execute(text("SELECT current_setting('max_parallel_workers_per_gather'), "
                                           "current_setting('statement_timeout')")).one()
        assert tuple(settings) == ("0", "10min")
        list(chunks)
