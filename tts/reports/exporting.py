"""Export datasets: pseudonymised by default, streamed so memory stays flat at any size."""
import csv
import io
import hashlib
import hmac
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import Select, func, select

from tts.audit.services import record_event
from tts.callqueue.models import CallAttempt
from tts.cases.models import Case, Contact
from tts.escalation.models import Escalation
from tts.extensions import db
from tts.people.models import Person
from tts.people.validation import postcode_district
from tts.reports.kpis import Filters
from tts.support.models import SupportNeed

DATASETS = ("cases", "contacts", "attempts", "escalations", "support_needs")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def pseudonym(person_id: int) -> str:
    """Stable across exports, not reversible without the server's secret."""
    key = current_app.config["SECRET_KEY"].encode()
    return "P" + hmac.new(key, f"person:{person_id}".encode(), hashlib.sha256).hexdigest()[:16]


def age_band(dob: date | None, on: date) -> str | None:
    if dob is None:
        return None
    age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    if age < 0:
        return None  # born after the export date: a mistyped date, no band (the band given is used)
    for low, high in ((0, 4), (5, 11), (12, 17), (18, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79)):
        if low <= age <= high:
            return f"{low}-{high}"
    return "80+"


def safe_cell(value):
    """Neutralise spreadsheet formula injection: text that could start a formula is shown as text."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass
class Dataset:
    statement: Select  # plain columns, never ORM objects: an export of a million rows builds no entities
    columns: list[str]
    row: callable  # (result row, export date) -> the values of one line
    # The same line as SQL, for COPY on PostgreSQL (tts/reports/copy_csv.py): one (kind, label) per column,
    # the label naming a column of `statement`; tests/reports/test_copy_csv.py proves both give the same bytes.
    sql: list[tuple[str, str]]
    identifiable: bool = False


# The person's columns every dataset joins, labelled so that they never clash with the record's own.
_PERSON = (Person.id.label("p_id"), Person.first_name.label("p_first_name"), Person.last_name.label("p_last_name"),
           Person.date_of_birth.label("p_date_of_birth"), Person.phone.label("p_phone"), Person.email.label("p_email"),
           Person.address.label("p_address"), Person.postcode.label("p_postcode"),
           Person.age_band.label("p_age_band"), Person.household_id.label("p_household_id"))


def _person_columns(identifiable: bool) -> list[str]:
    if identifiable:
        return ["person_id", "first_name", "last_name", "date_of_birth", "phone", "email", "address", "postcode"]
    return ["pseudonymous_id", "age_band", "postcode_district"]


def _person_values(r, identifiable: bool, on: date) -> list:
    if identifiable:
        return [r.p_id, r.p_first_name, r.p_last_name, _iso(r.p_date_of_birth), r.p_phone, r.p_email, r.p_address,
                r.p_postcode]
    return [pseudonym(r.p_id), age_band(r.p_date_of_birth, on) or r.p_age_band, postcode_district(r.p_postcode)]


def _person_sql(identifiable: bool) -> list[tuple[str, str]]:
    if identifiable:
        return [("int", "p_id"), ("text", "p_first_name"), ("text", "p_last_name"), ("date", "p_date_of_birth"),
                ("text", "p_phone"), ("text", "p_email"), ("text", "p_address"), ("text", "p_postcode")]
    return [("pseudonym", "p_id"), ("age_band", "p_date_of_birth"), ("district", "p_postcode")]


def _select(model, *columns):
    return (select(*columns, *_PERSON).select_from(model).join(Person, Person.id == model.person_id))


def dataset(name: str, f: Filters, identifiable: bool) -> Dataset:
    pc, ps = _person_columns(identifiable), _person_sql(identifiable)
    notes = ["notes"] if identifiable else []  # free text can hold anything: identifiable exports only
    notes_sql = [("text", "notes")] if identifiable else []
    if name == "cases":
        stmt = (_select(Case, Case.id, Case.reference, Case.source, Case.status, Case.test_date,
                        Case.symptom_onset_date, Case.isolation_end_date, Case.created_at)
                .where(Case.created_at >= f.start, Case.created_at < f.end).order_by(Case.id))
        cols = ["case_id", "reference", *pc, "source", "status", "test_date", "symptom_onset_date",
                "isolation_end_date", "created_at"]
        row = lambda r, on: [r.id, r.reference, *_person_values(r, identifiable, on), r.source, r.status,  # noqa: E731
                             _iso(r.test_date), _iso(r.symptom_onset_date), _iso(r.isolation_end_date),
                             _iso(r.created_at)]
        sql = [("int", "id"), ("text", "reference"), *ps, ("text", "source"), ("text", "status"),
               ("date", "test_date"), ("date", "symptom_onset_date"), ("date", "isolation_end_date"),
               ("ts", "created_at")]
    elif name == "contacts":
        stmt = (_select(Contact, Contact.id, Contact.case_id, Contact.relationship_.label("relationship"),
                        Contact.last_exposure_date, Contact.quarantine_end_date, Contact.created_at)
                .where(Contact.created_at >= f.start, Contact.created_at < f.end).order_by(Contact.id))
        cols = ["contact_id", "case_id", *pc, "relationship", "household_id", "last_exposure_date",
                "quarantine_end_date", "created_at"]
        row = lambda r, on: [r.id, r.case_id, *_person_values(r, identifiable, on), r.relationship,  # noqa: E731
                             r.p_household_id if r.relationship == "household" else None,
                             _iso(r.last_exposure_date), _iso(r.quarantine_end_date), _iso(r.created_at)]
        sql = [("int", "id"), ("int", "case_id"), *ps, ("text", "relationship"), ("household", "p_household_id"),
               ("date", "last_exposure_date"), ("date", "quarantine_end_date"), ("ts", "created_at")]
    elif name == "attempts":
        stmt = (_select(CallAttempt, CallAttempt.id, CallAttempt.work_item_id, CallAttempt.tracer_id,
                        CallAttempt.outcome, CallAttempt.call_status, CallAttempt.duration_seconds,
                        CallAttempt.created_at, CallAttempt.notes)
                .where(CallAttempt.created_at >= f.start, CallAttempt.created_at < f.end).order_by(CallAttempt.id))
        cols = ["attempt_id", "work_item_id", *pc, "tracer_id", "outcome", "call_status", "duration_seconds",
                "created_at", *notes]
        row = lambda r, on: [r.id, r.work_item_id, *_person_values(r, identifiable, on), r.tracer_id,  # noqa: E731
                             r.outcome, r.call_status, r.duration_seconds, _iso(r.created_at),
                             *([r.notes] if identifiable else [])]
        sql = [("int", "id"), ("int", "work_item_id"), *ps, ("int", "tracer_id"), ("text", "outcome"),
               ("text", "call_status"), ("int", "duration_seconds"), ("ts", "created_at"), *notes_sql]
    elif name == "escalations":
        stmt = (_select(Escalation, Escalation.id, Escalation.reason, Escalation.status, Escalation.visit_outcome,
                        Escalation.created_at, Escalation.resolved_at)
                .where(Escalation.created_at >= f.start, Escalation.created_at < f.end).order_by(Escalation.id))
        cols = ["escalation_id", *pc, "reason", "status", "visit_outcome", "created_at", "resolved_at"]
        row = lambda r, on: [r.id, *_person_values(r, identifiable, on), r.reason, r.status,  # noqa: E731
                             r.visit_outcome, _iso(r.created_at), _iso(r.resolved_at)]
        sql = [("int", "id"), *ps, ("text", "reason"), ("text", "status"), ("text", "visit_outcome"),
               ("ts", "created_at"), ("ts", "resolved_at")]
    elif name == "support_needs":
        stmt = (_select(SupportNeed, SupportNeed.id, SupportNeed.kind, SupportNeed.urgency, SupportNeed.status,
                        SupportNeed.referred_to, SupportNeed.created_at, SupportNeed.closed_at, SupportNeed.notes)
                .where(SupportNeed.created_at >= f.start, SupportNeed.created_at < f.end).order_by(SupportNeed.id))
        cols = ["support_need_id", *pc, "kind", "urgency", "status", "referred_to", "created_at", "closed_at", *notes]
        row = lambda r, on: [r.id, *_person_values(r, identifiable, on), r.kind, r.urgency, r.status,  # noqa: E731
                             r.referred_to, _iso(r.created_at), _iso(r.closed_at),
                             *([r.notes] if identifiable else [])]
        sql = [("int", "id"), *ps, ("text", "kind"), ("text", "urgency"), ("text", "status"),
               ("text", "referred_to"), ("ts", "created_at"), ("ts", "closed_at"), *notes_sql]
    else:
        raise KeyError(name)
    assert len(sql) == len(cols), name
    return Dataset(stmt, cols, row, sql, identifiable)


@contextmanager
def reading():
    """The connection an export reads through: the reporting replica's when `TTS_REPORTING_DATABASE_URL`
    is set (its own short read-only transaction, so a large export runs on other cores than the call
    queue's), else the session's own."""
    engine = db.engines.get("reporting")
    if engine is None:
        connection = db.session.connection()
        _report_cores(connection)
        yield connection
        return
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        _report_cores(connection)
        yield connection


def _report_cores(connection) -> None:
    """A report's query runs on one core (TTS_REPORT_PARALLEL_WORKERS, default 0 extra): PostgreSQL would
    otherwise give a large scan two parallel workers, every core of a small server, and the call queue
    would wait behind an analyst. For this transaction only (SET LOCAL)."""
    if connection.dialect.name == "postgresql":
        workers = int(current_app.config.get("TTS_REPORT_PARALLEL_WORKERS", 0))
        connection.exec_driver_sql(f"SET LOCAL max_parallel_workers_per_gather = {workers}")


def count_rows(ds: Dataset) -> int:
    sub = ds.statement.order_by(None).subquery()
    with reading() as connection:
        return connection.scalar(select(func.count()).select_from(sub)) or 0


def rows(ds: Dataset, on: date, batch: int = 1000) -> Iterator[list]:
    """Row values, fetched in batches (yield_per: a server-side cursor on PostgreSQL)."""
    row, dangerous = ds.row, _DANGEROUS
    with reading() as connection:
        for r in connection.execute(ds.statement.execution_options(yield_per=batch)):
            # safe_cell, inlined: called for every cell of a million rows, the call itself was a tenth of the time.
            yield [("'" + v) if isinstance(v, str) and v.startswith(dangerous) else v for v in row(r, on)]


def csv_chunks(ds: Dataset, on: date, rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV in chunks of a few hundred rows: few enough writes to be fast, small enough to stream."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # lines end CRLF (RFC 4180), as copy_csv.py's do too
    writer.writerow(ds.columns)
    chunk: list[list] = []
    for values in rows(ds, on):
        chunk.append(values)
        if len(chunk) == rows_per_chunk:
            writer.writerows(chunk)
            chunk.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(chunk)
    yield buffer.getvalue()


def xlsx_file(ds: Dataset, on: date, progress=None, every: int = 5_000) -> tuple[str, int]:
    """Write an XLSX with XlsxWriter's constant-memory mode (each row goes to disk as it is written);
    returns its path, which the caller deletes once sent, and the number of rows. Text is always written
    as text, so a cell can never become a formula. `progress(rows)` is called every `every` rows."""
    import xlsxwriter

    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "strings_to_numbers": False})
        sheet = book.add_worksheet("data")
        sheet.write_row(0, 0, ds.columns)
        from tts.reports.copy_csv import sql_rows, uses_copy

        # On PostgreSQL the database formats every value (dates, guard, pseudonyms), as for CSV.
        source = sql_rows(ds, on) if uses_copy() else rows(ds, on)
        n = 0
        for n, values in enumerate(source, start=1):
            if n >= XLSX_MAX_ROWS:
                raise ExportTooLarge(f"More than {XLSX_MAX_ROWS - 1:,} rows: Excel cannot hold them in one sheet. "
                                     "Choose a shorter date range, or download CSV.")
            sheet.write_row(n, 0, values)
            if progress is not None and n % every == 0:
                progress(n)
        book.close()
    except BaseException:
        os.unlink(path)
        raise
    return path, n


XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, the header row included


class ExportTooLarge(Exception):
    pass


def audit_export(actor, name: str, f: Filters, identifiable: bool, row_count: int, fmt: str, **more) -> None:
    record_event(actor, "export.create", None, {"dataset": name, "from": f.date_from.isoformat(),
                                                "to": f.date_to.isoformat(), "identifiable": identifiable,
                                                "rows": row_count, "format": fmt, **more})
