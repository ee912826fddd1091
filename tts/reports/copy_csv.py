"""CSV exports on PostgreSQL through `COPY (…) TO STDOUT`: the database writes the CSV itself.

The Python path (`exporting.csv_chunks`) spends ~25 µs a row reading fields, formatting dates, guarding
formulas and quoting; COPY does all of that in the server in a few µs. Every transformation the Python
path makes is done here in SQL, column by column, from the dataset's `sql` spec:

- text: the formula-injection guard (a leading = + - @ tab or CR gets a ' in front), and an empty string
  written as an empty field (COPY would quote it as "" to tell it from NULL; the Python path cannot);
- dates as YYYY-MM-DD, times as Python's `isoformat()` of the UTC time (microseconds only when non-zero);
- pseudonyms: HMAC-SHA256 of "person:<id>" under the server's secret, built from PostgreSQL's own
  `sha256()` (no extension needed) with the padded keys worked out here, so the secret never appears
  in the SQL text; age bands at the export date; postcode districts.

`tests/reports/test_copy_csv.py` proves both paths give the same bytes for every dataset.
"""
import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import date

from flask import current_app
from sqlalchemy import Integer, LargeBinary, String, bindparam, case, cast, extract, func, literal, null, select

from tts.extensions import db
from tts.people.models import Person
from tts.reports.datasets import AGE_BANDS, DANGEROUS, Dataset
from tts.reports.reading import reading


def _hmac_pads(secret: str) -> tuple[bytes, bytes]:
    """HMAC's inner and outer keys (RFC 2104): HMAC(k, m) = H(k ^ opad || H(k ^ ipad || m))."""
    key = secret.encode()
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _guard(x):
    text = cast(x, String)
    return case((func.left(text, 1).in_(DANGEROUS), literal("'") + text), else_=func.nullif(text, ""))


def _iso_date(x):
    return func.to_char(x, "YYYY-MM-DD")


def _iso_time(x):
    utc = func.timezone("UTC", x)
    micro = cast(extract("microseconds", x), Integer) % 1_000_000
    return (func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
            + case((micro != 0, func.to_char(utc, ".US")), else_="") + "+00:00")


def _age(dob, on: date):
    """Whole years from the date of birth to `on`, computed once per row (in the inner query): the classic
    (yyyymmdd - yyyymmdd) / 10000, which is Python's `on.year - dob.year - ((on.month, on.day) < (...))`.
    Doubles from date_part, not extract()'s numerics: this runs for every row of a million-row export."""
    born = (func.date_part("year", dob) * 10000 + func.date_part("month", dob) * 100 + func.date_part("day", dob))
    return func.floor((on.year * 10000 + on.month * 100 + on.day - born) / 10000)


def _age_band(age):
    band = case(*[(age <= high, f"{low}-{high}") for low, high in AGE_BANDS], else_="80+")
    return case((age.is_(None), null()), (age < 0, null()), else_=band)


def _expressions(ds: Dataset, sub, on: date) -> list:
    inner, outer = _hmac_pads(current_app.config["SECRET_KEY"])
    ipad = bindparam("ipad", inner, type_=LargeBinary)
    opad = bindparam("opad", outer, type_=LargeBinary)
    out = []
    for kind, label in ds.sql:
        x = sub.c[label]
        if kind == "int":
            out.append(x)
        elif kind == "text":
            out.append(_guard(x))
        elif kind == "date":
            out.append(_iso_date(x))
        elif kind == "ts":
            out.append(_iso_time(x))
        elif kind == "household":  # the household only for a household contact
            out.append(case((sub.c.relationship == "household", x), else_=null()))
        elif kind == "pseudonym":
            message = func.convert_to("person:" + cast(x, String), "UTF8")
            digest = func.sha256(opad.op("||")(func.sha256(ipad.op("||")(message))))
            out.append("P" + func.left(func.encode(digest, "hex"), 16))
        elif kind == "age_band":  # from the date of birth at the export date, else the band given
            out.append(_guard(func.coalesce(_age_band(sub.c.p_age), sub.c.p_age_band)))
        elif kind == "district":
            out.append(_guard(func.split_part(x, " ", 1)))
        else:
            raise ValueError(kind)
    return out


def copy_statement(ds: Dataset, on: date):
    # The rows are sorted first (OFFSET 0 keeps the subquery whole), then formatted: the formatting (a
    # pseudonym is two SHA-256s) happens as rows stream out, not for every row before the first is sent.
    inner = ds.statement
    if any(kind == "age_band" for kind, _ in ds.sql):
        inner = inner.add_columns(_age(Person.date_of_birth, on).label("p_age"))
    sub = inner.offset(0).subquery()
    first = ds.sql[0][1]
    return select(*_expressions(ds, sub, on)).order_by(sub.c[first])


def header(ds: Dataset) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(ds.columns)
    return buffer.getvalue()


def _settle(connection) -> None:
    """This transaction's settings for an export: one process (no parallel workers: an export running beside
    the call queue must leave it a core; measured in docs/benchmarks.md), no JIT, and its own statement
    timeout, as COPY of a large range can outlast the web role's 30 s."""
    seconds = int(current_app.config["TTS_EXPORT_STATEMENT_TIMEOUT_SECONDS"])
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = '{seconds}s'")
    connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
    connection.exec_driver_sql("SET LOCAL jit = off")  # compiling the expressions cost more than it saved


def copy_csv_chunks(ds: Dataset, on: date, chunk_bytes: int = 256 * 1024) -> Iterator[bytes]:
    """The CSV as PostgreSQL writes it, in chunks of about `chunk_bytes` (COPY sends one message per row).
    COPY quotes a field holding a CR or LF; Python's csv module does too, with its default CRLF endings."""
    with reading() as connection:
        compiled = copy_statement(ds, on).compile(dialect=connection.dialect,
                                                  compile_kwargs={"render_postcompile": True})
        _settle(connection)
        raw = connection.connection.driver_connection
        yield header(ds).encode()
        buffer = bytearray()
        with raw.cursor() as cursor, cursor.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)",
                                                 compiled.params) as copy:
            for row in copy:  # libpq hands over one whole row at a time, ending in its LF
                buffer += row
                buffer[-1:] = b"\r\n"  # CRLF, as RFC 4180 and Python's csv module end lines
                if len(buffer) >= chunk_bytes:
                    yield bytes(buffer)
                    buffer.clear()
        if buffer:
            yield bytes(buffer)


def sql_rows(ds: Dataset, on: date, batch: int = 2000) -> Iterator[tuple]:
    """The export's values already formatted by PostgreSQL (the same expressions as COPY), for the XLSX
    writer: no Python work per cell besides the writer's own. Same values as `exporting.rows`, except
    that an empty text is None (a blank cell either way)."""
    with reading() as connection:
        _settle(connection)
        yield from connection.execute(copy_statement(ds, on).execution_options(yield_per=batch))


def uses_copy() -> bool:
    return (db.session.get_bind().dialect.name == "postgresql"
            and current_app.config.get("TTS_EXPORT_CSV_WITH_COPY", True))
