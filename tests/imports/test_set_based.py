"""The set-based import writes exactly what one service call a row writes.

Each file below is imported twice into the same starting database (each time in a savepoint, rolled back
after): once row by row through `create_case`/`add_contact` (TTS_IMPORT_SET_BASED=0, the reference), once
set-based. The whole database is then compared table by table, every column, with ids replaced by their
position (sequences are not rolled back on PostgreSQL) and case references by their case's position (they
are random): people matched and filled in, households found or created, cases, contacts, work items and
their bands, escalations, texts and their bodies, audit events and their details, and the batch's report.
"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from tts.audit.chain import verify
from tts.audit.models import AuditEvent
from tts.auth.models import User
from tts.callqueue.models import WorkItem
from tts.cases.models import Case, Contact
from tts.cases.services import add_contact, create_case
from tts.clock import today
from tts.escalation.models import Escalation
from tts.extensions import db
from tts.imports.models import ImportBatch
from tts.imports.services import COLUMNS, create_batch, run_import
from tts.people.models import Household, Person
from tts.people.validation import PersonData
from tts.selfservice.links import hash_token
from tts.selfservice.models import SelfServiceLink
from tts.telephony.models import Message

HEADER = ",".join(COLUMNS)
D = today  # the frozen clock's today (the tests run at DAYTIME)


def _csv(*rows: str) -> str:
    return HEADER + "\n" + "\n".join(rows) + "\n"


def _good_rows() -> list[str]:
    yesterday, two_ago = D() - timedelta(days=1), D() - timedelta(days=2)
    return [
        # A new person in a new household; their household contact has no phone (escalated at once, and in
        # the case's household); a close contact on a landline at a known household written differently;
        # a close contact with no address (no household).
        f"NC-1,case,Juniper,Oakes,1985-05-05,07700 900720,,7 Bramble Way,s2 3da,{yesterday},{two_ago},,,",
        f"NC-2,contact,Basil,Oakes,,,,,,,,NC-1,household,{yesterday}",
        f"NC-3,contact,Clover,Reed,1992-02-29,0114 496 0721,,\"12 willow  court\",S8 0QX,,,NC-1,close,{yesterday}",
        f"NC-4,contact,Dorian,Fell,,07700 900722,,,,,,NC-1,close,{yesterday}",
        # Known people: matched by date of birth and phone (email, address, postcode filled in, household
        # found); by name (any case) and postcode; a vulnerable one (band raised).
        f"NC-5,case,Saffron,Quayle,04/03/1980,+44 7700 900701,Saffron.Q@Example.org,9 Heron Rise,S10 5GG,{yesterday},,,,",
        f"NC-6,case,IDRIS,penhallow,1975-06-07,07700 900799,,4 Lantern Lane,s7 1ab,{yesterday},,,,",
        f"NC-7,case,Marigold,Thistle,1950-01-01,07700 900703,,2 Mill Yard,S6 4PL,{yesterday},,,,",
        # The file's own new person again (a second case): they have a current case (the one this file
        # made), so it is reported as matched to that case, not logged twice.
        f"NC-8,case,Juniper,Oakes,1985-05-05,07700 900720,,7 Bramble Way,S2 3DA,{two_ago},,,,",
        # A known person who opted out of texts (the introduction is written as skipped).
        f"NC-9,contact,Otto,Brack,1990-10-10,07700 900704,,,,,,NC-5,close,{yesterday}",
        # Contacts of a case imported before: a household contact with no address (the case's address and
        # household), and a known person from another household moved into it.
        f"NC-10,contact,Wilma,Vane,,,,,,,,OLD-1,household,{yesterday}",
        f"NC-11,contact,Kit,Marsh,1999-09-09,07700 900712,,,,,,OLD-1,household,{yesterday}",
        # A contact matching a person created earlier in this file (keeps her household).
        f"NC-12,contact,Clover,Reed,1992-02-29,0114 496 0721,,,,,,NC-7,close,{yesterday}",
        # A contact naming a case further down the file.
        f"NC-13,contact,Fern,Ashby,,07700 900723,Fern@Example.ORG,1 Heron Rise,S10 5GG,,,NC-14,close,{yesterday}",
        f"NC-14,case,Gideon,Ashby,1979-12-12,07700 900724,,1 Heron Rise,S10 5GG,{yesterday},,,,",
        # A household contact matched by name, date of birth and their case's postcode (none of their own).
        f"NC-15,contact,Seren,Penhallow,2001-01-01,,,,,,,NC-6,household,{yesterday}",
        # Two known people match (one by phone, one by name and postcode): the one known first is taken.
        f"NC-16,case,Pim,Lark,1960-06-06,07700 900741,,6 Lark Hill,S4 7TT,{yesterday},,,,",
        # Imported before: counted as a duplicate, nothing changes.
        f"OLD-C1,contact,Rufus,Vane,1970-02-02,07700 900711,,,,,,OLD-1,household,{yesterday}",
    ]


def _bad_rows() -> list[str]:
    yesterday = D() - timedelta(days=1)
    return _good_rows() + [
        # A row with a problem still goes through the rules (so later rows are checked against it).
        f"NC-1,case,Hazel,Birch,1988-08-08,07700 900730,,5 Birch Row,S3 8HB,{yesterday},,,,",
        f"NB-2,contact,Hazel,Birch,1988-08-08,07700 900730,,,,,,NC-7,close,{yesterday}",
        f"NB-3,contact,Idris,Penhallow,1975-06-07,07700 900702,,,,,,NC-6,household,{yesterday}",  # the case
        f"NB-4,contact,Rufus,Vane,1970-02-02,07700 900711,,,,,,OLD-1,close,{yesterday}",  # already a contact
        f"NB-5,contact,,Zed,,12345,not-an-email,,NOWHERE,,,NC-1,close,{yesterday}",
        f"NB-6,contact,Yan,Zed,,07700 900731,,,,,,NC-99,close,{yesterday}",
        "NB-7,contact,Xia,Zed,,07700 900732,,,,,,NC-1,close,2026-10-01",  # before the infectious period
        f"NB-8,case,Wen,Zed,31/02/1979,07700 900733,,1 Zed Lane,S1 1AA,{yesterday},,,,",
        "NB-9,case,Vee,Zed,1979-01-01,07700 900734,,,,,,,,",
        "NB-10,visitor,Uri,Zed,,07700 900735,,,,,,,,",
        f"NB-11,contact,Tam,Zed,,07700 900736,,,,,,NC-1,cousin,{yesterday}",
    ]


def _seed(actor) -> None:
    def person(first, last, born, phone, address=None, postcode=None, **flags):
        p = Person(first_name=first, last_name=last, date_of_birth=born, phone=phone, address=address,
                   postcode=postcode, **flags)
        db.session.add(p)
        return p

    from datetime import date

    lantern = Household(address="4 Lantern Lane", postcode="S7 1AB")
    db.session.add_all([lantern, Household(address="12, Willow Court", postcode="S8 0QX")])
    person("Saffron", "Quayle", date(1980, 3, 4), "+447700900701")  # no email, address or household
    person("Idris", "Penhallow", date(1975, 6, 7), "+447700900702", "4 Lantern Lane", "S7 1AB", household=lantern)
    person("Seren", "Penhallow", date(2001, 1, 1), None, "4 Lantern Lane", "S7 1AB", household=lantern)
    person("Marigold", "Thistle", date(1950, 1, 1), "+447700900703", "2 Mill Yard", "S6 4PL", is_vulnerable=True)
    person("Otto", "Brack", date(1990, 10, 10), "+447700900704", has_sms_opt_out=True)
    person("Pim", "Lark", date(1960, 6, 6), "+447700900741")
    person("Pim", "Lark", date(1960, 6, 6), "+447700900742", "6 Lark Hill", "S4 7TT")
    person("Kit", "Marsh", date(1999, 9, 9), "+447700900712", "8 Far Lane", "S5 9ZZ",
           household=Household(address="8 Far Lane", postcode="S5 9ZZ"))
    db.session.flush()
    old = create_case(actor, PersonData(first_name="Perpetua", last_name="Vane", date_of_birth=date(1968, 4, 4),
                                        phone="07700 900710", address="3 Gorse Hill", postcode="S11 8YY"),
                      test_date=D() - timedelta(days=2), symptom_onset_date=None, referral_id="OLD-1")
    add_contact(actor, old, PersonData(first_name="Rufus", last_name="Vane", date_of_birth=date(1970, 2, 2),
                                       phone="07700 900711"),
                relationship="household", last_exposure_date=D() - timedelta(days=2), referral_id="OLD-C1")
    db.session.flush()


_TABLES = {"households": Household, "people": Person, "cases": Case, "contacts": Contact, "work_items": WorkItem,
           "escalations": Escalation, "self_service_links": SelfServiceLink, "messages": Message,
           "audit_events": AuditEvent, "import_batches": ImportBatch}
_FOREIGN = {"household_id": "households", "person_id": "people", "case_id": "cases", "contact_id": "contacts",
            "work_item_id": "work_items", "origin_item_id": "work_items"}
_RECORDS = {"person": "people", "case": "cases", "contact": "contacts", "workitem": "work_items",
            "escalation": "escalations", "message": "messages", "importbatch": "import_batches",
            "selfservicelink": "self_service_links"}
_NOT_COMPARED = {"chain_seq", "prev_hash", "hash"}  # sealed only at a real commit (checked below)


def _dump() -> dict:
    """Every row of every table an import writes, ids as positions, references as their case's position."""
    db.session.flush()
    raw = {name: [dict(r._mapping) for r in db.session.execute(select(model.__table__).order_by(model.__table__.c.id))]
           for name, model in _TABLES.items()}
    position = {name: {row["id"]: n for n, row in enumerate(rows)} for name, rows in raw.items()}
    references = {row["reference"]: f"REF{position['cases'][row['id']]}" for row in raw["cases"]}
    # Personal links are random: each token (in a text) and its hash (stored) become the link's position.
    link_label = {row["token_hash"]: f"LINK{position['self_service_links'][row['id']]}"
                  for row in raw["self_service_links"]}
    for row in raw["messages"]:
        for token in re.findall(r"/s/([A-Za-z0-9_-]+)", row["body"] or ""):
            references[token] = link_label[hash_token(token)]
    references.update(link_label)

    def relabel(value):
        for ref, label in references.items():
            value = value.replace(ref, label) if isinstance(value, str) else value
        return value

    out = {}
    for name, rows in raw.items():
        out[name] = []
        for row in rows:
            row = {k: v for k, v in row.items() if k not in _NOT_COMPARED and k != "id"}
            for column, table in _FOREIGN.items():
                if row.get(column) is not None:
                    row[column] = position[table][row[column]]
            if name == "audit_events":
                if row["record_type"] in _RECORDS and row["record_id"] is not None:
                    row["record_id"] = position[_RECORDS[row["record_type"]]][row["record_id"]]
                if row["details"]:
                    row["details"] = {k: position[_FOREIGN[k]][v] if k in _FOREIGN and v is not None else v
                                      for k, v in row["details"].items()}
            if name == "import_batches" and row["matched"]:
                row["matched"] = [m | {"case_id": position["cases"][m["case_id"]],
                                       "case_reference": relabel(m["case_reference"])} for m in row["matched"]]
            out[name].append({k: relabel(v) for k, v in row.items()})
    return out


def _import_twice(app, actor, content: str, chunk: int = 5000) -> tuple:
    """Row by row, then set-based in parts of `chunk` rows (2: every part boundary the rules can cross)."""
    results = []
    for set_based in (False, True):
        app.config["TTS_IMPORT_SET_BASED"] = set_based
        app.config["TTS_IMPORT_CHUNK_ROWS"] = chunk
        savepoint = db.session.begin_nested()
        try:
            batch = create_batch(actor, "referrals.csv", content)
            run_import(actor, batch)
            report = (batch.status, batch.rows_total, batch.rows_imported, batch.duplicates, batch.errors,
                      batch.matched)
            results.append((report, _dump()))
        finally:
            savepoint.rollback()
            app.config.pop("TTS_IMPORT_SET_BASED", None)
            app.config["TTS_IMPORT_CHUNK_ROWS"] = 5000
    return results


@pytest.fixture
def seeded(app, daytime, make_user):
    with app.app_context():
        actor = db.session.get(User, make_user("supervisor")["id"])
        _seed(actor)
        daytime.shift(timedelta(minutes=7))  # the import's times differ from the seed's
        yield actor


@pytest.mark.parametrize("chunk", [0, 5000, 2, 1])
def test_a_good_file_is_written_exactly_as_row_by_row(app, seeded, chunk):
    (by_row_report, by_row), (set_report, set_based) = _import_twice(app, seeded, _csv(*_good_rows()), chunk)
    assert by_row_report[:5] == set_report[:5]  # (matched: compared below, as the new case's position)
    assert set_report[:5] == ("completed", 17, 15, 1, None), set_report[4]
    [matched] = set_report[5]
    assert matched["row"] == 9 and matched["referral_id"] == "NC-8" and matched["case_reference"].startswith("TTS-")
    for table in _TABLES:
        assert set_based[table] == by_row[table], table
    # The file touched what it was built to touch (so the comparison above compared something).
    people = {(p["first_name"], p["last_name"]): p for p in set_based["people"]}
    assert people[("Saffron", "Quayle")]["email"] == "Saffron.Q@example.org"
    assert people[("Kit", "Marsh")]["household_id"] == people[("Perpetua", "Vane")]["household_id"]
    assert people[("Wilma", "Vane")]["household_id"] == people[("Perpetua", "Vane")]["household_id"]
    assert people[("Clover", "Reed")]["household_id"] == 1  # "12, Willow Court" seeded second
    assert people[("Dorian", "Fell")]["household_id"] is None
    assert sum(1 for p in set_based["people"] if p["first_name"] == "Juniper") == 1
    assert {m["status"] for m in set_based["messages"]} == {"queued", "skipped"}
    assert any(e["reason"] == "no_phone" for e in set_based["escalations"])
    assert {w["band"] for w in set_based["work_items"]} == {1, 2, 3}
    actions = {e["action"] for e in set_based["audit_events"]}
    assert {"person.match", "person.create", "case.create", "contact.create", "work_item.create",
            "message.queue", "escalation.create"} <= actions


@pytest.mark.parametrize("chunk", [5000, 2])
def test_a_bad_file_reports_the_same_problems(app, seeded, chunk):
    before = _dump()
    (by_row_report, by_row), (set_report, set_based) = _import_twice(app, seeded, _csv(*_bad_rows()), chunk)
    assert set_report == by_row_report
    assert set_report[0] == "rejected" and set_report[2] == 0
    found = {(e["row"], e["column"]) for e in set_report[4]}
    assert {(19, "referral_id"), (21, "first_name"), (22, "first_name"), (23, "first_name"), (23, "phone"),
            (23, "email"), (23, "postcode"), (24, "case_referral_id"), (25, "last_exposure_date"),
            (26, "date_of_birth"), (27, "test_date"), (28, "record_type"), (29, "relationship")} <= found
    messages = {(e["row"], e["column"]): e["message"] for e in set_report[4]}
    assert messages[(21, "first_name")] == "This is the case themselves, not a contact"
    assert messages[(22, "first_name")] == "Rufus Vane is already a contact of this case"
    # Nothing but the batch and its two events was written either way.
    for dump in (by_row, set_based):
        assert {t: rows for t, rows in dump.items() if t not in ("import_batches", "audit_events")} == {
            t: rows for t, rows in before.items() if t not in ("import_batches", "audit_events")}
        assert len(dump["audit_events"]) == len(before["audit_events"]) + 2


def test_the_set_based_import_seals_its_events_into_the_chain(app, seeded):
    app.config["TTS_IMPORT_SET_BASED"] = True
    try:
        batch = create_batch(seeded, "referrals.csv", _csv(*_good_rows()))
        run_import(seeded, batch)
        db.session.commit()
        assert batch.status == "completed"
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
        assert all(e.hash for e in events) and [e.chain_seq for e in events] == list(range(1, len(events) + 1))
        assert verify(db.session).ok
    finally:
        app.config.pop("TTS_IMPORT_SET_BASED", None)


def test_the_number_of_statements_does_not_grow_with_the_rows(app, seeded):
    """A few queries a file, not a few a row: 30 rows and 300 rows take about the same number."""
    def statements(n: int) -> int:
        yesterday = D() - timedelta(days=1)
        rows = []
        for i in range(n):
            if i % 3 == 0:
                rows.append(f"S-{i},case,Ada,Kestrel{i},1980-01-{1 + i % 28:02d},07700 900{i % 1000:03d},,"
                            f"{i} Sample Street,S{1 + i % 20} 1AB,{yesterday},,,,")
            else:
                rows.append(f"S-{i},contact,Bram,Kestrel{i},,07700 900{(i + 500) % 1000:03d},,,,,,S-{i - i % 3},"
                            f"{'household' if i % 3 == 1 else 'close'},{yesterday}")
        count = 0

        def counter(*_args):
            nonlocal count
            count += 1

        engine = db.session.get_bind()
        event.listen(engine, "before_cursor_execute", counter)
        savepoint = db.session.begin_nested()
        try:
            batch = create_batch(seeded, "many.csv", _csv(*rows))
            run_import(seeded, batch)
            assert batch.status == "completed", batch.errors
        finally:
            savepoint.rollback()
            event.remove(engine, "before_cursor_execute", counter)
        return count

    app.config["TTS_IMPORT_SET_BASED"] = True
    try:
        small, large = statements(30), statements(300)
    finally:
        app.config.pop("TTS_IMPORT_SET_BASED", None)
    assert large <= small + 10, (small, large)
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.referral_id.like("S-%"))) == 0


def test_case_references_are_drawn_again_until_unique(app, seeded, monkeypatch):
    """Drawn references already in the database, or drawn twice in the file, are drawn again."""
    from types import SimpleNamespace

    from tts.imports import bulk

    taken = db.session.scalar(select(Case.reference).where(Case.referral_id == "OLD-1"))
    draws = iter([taken, "TTS-BBBBB", "TTS-BBBBB", "TTS-BBBBB", "TTS-CCCCC", "TTS-DDDDD"])
    monkeypatch.setattr(bulk, "random_reference", lambda: next(draws))
    cases = [SimpleNamespace(reference=None) for _ in range(3)]
    bulk._give_references(cases)
    assert sorted(c.reference for c in cases) == ["TTS-BBBBB", "TTS-CCCCC", "TTS-DDDDD"]


@pytest.mark.no_rollback
def test_two_workers_importing_the_same_referrals_at_once_never_write_them_twice(fresh_database_url):
    """Two batches of the same file, two workers at the same moment: every referral lands once; the other
    batch either finds them imported (duplicates) or, if it wrote at the same time, stops as failed with
    nothing kept (PostgreSQL's unique referral ids). No batch is left processing, and the chain holds."""
    import threading

    import time_machine

    from tests.conftest import DAYTIME, make_app
    from tests.imports.test_imports import GOOD
    from tts.imports.services import run_pending_imports

    app = make_app(fresh_database_url("import_race"), TTS_IMPORT_INLINE_MAX_ROWS=2)
    with time_machine.travel(DAYTIME, tick=False), app.app_context():
        for name in ("first.csv", "second.csv"):
            db.session.add(ImportBatch(file_name=name, status="pending", payload=GOOD, rows_total=4))
        db.session.commit()
        errors, barrier = [], threading.Barrier(2)

        def worker():
            try:
                barrier.wait()
                with app.app_context():
                    run_pending_imports()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        batches = db.session.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
        outcome = sorted((b.status, b.rows_imported, b.duplicates) for b in batches)
        assert outcome in ([("completed", 0, 4), ("completed", 4, 0)], [("completed", 4, 0), ("failed", 0, 0)])
        assert db.session.scalar(select(func.count()).select_from(Case).where(Case.referral_id.like("NR-%"))) == 2
        assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.referral_id.like("NR-%"))) == 2
        assert verify(db.session).ok
        db.session.remove()
        db.engine.dispose()


def test_a_referral_for_someone_with_a_current_case_joins_it_instead_of_logging_a_second(app, seeded):
    """Perpetua Vane has case OLD-1, open: a new referral for her is reported as matched, and the file's
    contact of that referral is added to OLD-1. Both backends alike."""
    yesterday = D() - timedelta(days=1)
    content = _csv(f"NEW-1,case,Perpetua,Vane,1968-04-04,07700 900710,,3 Gorse Hill,S11 8YY,{yesterday},,,,",
                   f"NEW-2,contact,Linnet,Ames,,07700 900750,,,,,,NEW-1,close,{yesterday}")
    (by_row_report, by_row), (set_report, set_based) = _import_twice(app, seeded, content)
    for table in _TABLES:
        assert set_based[table] == by_row[table], table
    old = db.session.scalar(select(Case).where(Case.referral_id == "OLD-1"))
    for report in (by_row_report, set_report):
        assert report[:5] == ("completed", 2, 1, 0, None)
        assert report[5] == [{"row": 2, "referral_id": "NEW-1", "case_id": old.id, "case_reference": old.reference}]
    cases = set_based["cases"]
    assert len(cases) == 1  # OLD-1 only: no second case for her
    linnet = next(p for p in set_based["people"] if p["first_name"] == "Linnet")
    assert [c["case_id"] for c in set_based["contacts"] if c["person_id"] == set_based["people"].index(linnet)] == [0]


def test_a_row_naming_an_unknown_case_reports_its_other_problems_in_the_same_pass(app, seeded):
    content = _csv("NX-1,contact,,Zed,,12345,,,,,,NO-SUCH-CASE,cousin,")
    (by_row_report, _), (set_report, _) = _import_twice(app, seeded, content)
    assert by_row_report[:5] == set_report[:5]
    found = {(e["row"], e["column"]) for e in set_report[4]}
    assert {(2, "case_referral_id"), (2, "first_name"), (2, "phone"), (2, "relationship"),
            (2, "last_exposure_date")} <= found, found
