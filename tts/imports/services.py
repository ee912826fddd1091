"""Importing national referrals: every row through the same services as the app, all or nothing."""
import csv
import io
import logging
from collections.abc import Callable, Iterable, Iterator

from flask import current_app
from sqlalchemy import select, text

from tts.jobs import job, run_pending
from tts.audit.services import record_event
from tts.cases.models import Case, CaseSource, Contact, ContactSource
from tts.cases.services import DuplicateCase, add_contact, create_case
from tts.cases.intake import check_contact_alone
from tts.imports.errors import AlreadyCase
from tts.clock import utcnow
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.imports.dates import date_or_none as _date_or_none, parse_date
from tts.imports.models import ImportBatch
from tts.people.validation import PersonData, normalise_postcode

COLUMNS = ("referral_id", "record_type", "first_name", "last_name", "date_of_birth", "phone", "email", "address",
           "postcode", "test_date", "symptom_onset_date", "case_referral_id", "relationship", "last_exposure_date")
# Read when the header has them, else blank. `setting` (and its postcode) names a place the person attended: a
# setting in the register is linked (the cluster rule runs); any other name waits for a supervisor to match.
OPTIONAL_COLUMNS = ("language", "setting", "setting_postcode")
DATE_COLUMNS = ("date_of_birth", "test_date", "symptom_onset_date", "last_exposure_date")
MAX_ERRORS = 1000
PROGRESS_EVERY = 250  # rows between progress reports (background imports are 2,000 rows and more)
log = logging.getLogger(__name__)
Progress = Callable[[int], None]


class Row:
    """One row of the file: its line number (`row._row`) and its columns (`row.phone`, or `row[name]`). Slots,
    not a dict: a quarter less memory for a large file."""

    __slots__ = ("_row", *COLUMNS, *OPTIONAL_COLUMNS)

    def __init__(self, number: int, values: list[str]) -> None:
        self._row = number
        for name, value in zip((*COLUMNS, *OPTIONAL_COLUMNS), values, strict=True):
            setattr(self, name, value)

    def __getitem__(self, name: str) -> str | int:
        return getattr(self, name)


def _shape(content: str) -> tuple[csv.reader, list[int], int, list[dict]]:
    """The file's reader past its header, which cells make a row, and any problems with the header."""
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader, [])]
    repeated = sorted({h for h in header if h and header.count(h) > 1}, key=header.index)
    missing = [c for c in COLUMNS if c not in header]
    if missing or repeated:
        # A repeated column is refused, never read with one copy winning: which one the sender meant is unknown.
        return reader, [], 0, ([{"row": 1, "column": c, "message": f"The header row has this column "
                                 f"{header.count(c)} times: keep one and upload the file again"} for c in repeated]
                               + [{"row": 1, "column": c, "message": "This column is missing from the header row"}
                                  for c in missing])
    at = {name: i for i, name in enumerate(header)}
    blank = len(header)  # an optional column the file does not have reads as this (blank) cell
    wanted = [at[c] for c in COLUMNS] + [at.get(c, blank) for c in OPTIONAL_COLUMNS]
    return reader, wanted, max(wanted) + 1, []


def iter_rows(content: str) -> Iterator[Row]:
    """The file's rows one at a time, with their line numbers (read again on each call: an import reads the
    file twice, cases then contacts, and never holds all its rows)."""
    reader, wanted, width, problems = _shape(content)
    if problems:
        return
    number = 1
    for raw in reader:
        if not raw:
            continue  # blank lines are not rows, and not counted (as csv.DictReader did)
        number += 1
        if len(raw) < width:
            raw += [""] * (width - len(raw))
        yield Row(number, [raw[i].strip() for i in wanted])


def check_file(content: str, max_rows: int | None = None) -> tuple[int, list[dict]]:
    """How many rows the file has, and any problems with its shape: a bad header, no rows, or more than
    `max_rows` (refused as soon as it has been read that far)."""
    problems = _shape(content)[3]
    if problems:
        return 0, problems
    count = 0
    for count, _row in enumerate(iter_rows(content), start=1):
        if max_rows is not None and count > max_rows:
            return 0, [{"row": 1, "column": "", "message": f"The file has more than {max_rows:,} rows, the most "
                        "one import takes: split it into smaller files and import each"}]
    if not count:
        return 0, [{"row": 1, "column": "", "message": "The file has no rows"}]
    return count, []


def read_rows(content: str, max_rows: int | None = None) -> tuple[list[Row], list[dict]]:
    """Every row at once (small files, tests), and any problems with the file's shape."""
    total, problems = check_file(content, max_rows)
    return ([], problems) if problems else (list(iter_rows(content)), [])


def file_problem(content: str) -> str | None:
    """What makes a decoded file unusable before any row is read: a NUL character, which no database column
    may hold (a spreadsheet's own format, or a file saved as UTF-16, renamed .csv)."""
    at = content.find("\x00")
    if at >= 0:
        row = content.count("\n", 0, at) + 1
        return (f"Row {row} contains a NUL character, which a CSV file cannot hold: save the file as "
                "\u201cCSV UTF-8\u201d and upload it again")
    return None


def create_batch(actor, file_name: str, content: str) -> ImportBatch:
    batch = ImportBatch(file_name=(file_name or "upload.csv")[:255], created_by_id=getattr(actor, "id", None),
                        status="pending", payload=content)
    db.session.add(batch)
    db.session.flush()
    record_event(actor, "import.create", batch, {"file": batch.file_name})
    return batch


def run_import(actor, batch: ImportBatch, progress: Progress | None = None) -> ImportBatch:
    """Validate and import the batch's file in the caller's transaction. Any bad row: nothing is kept."""
    # The batch row is written only at the end, so a background import's progress updates (made on
    # another connection) never wait on this transaction's row lock.
    content = batch.payload or ""
    total, errors = check_file(content, current_app.config["TTS_IMPORT_MAX_ROWS"])
    duplicates = 0
    imported = 0
    matched: list[dict] = []
    if not errors:
        with db.session.begin_nested() as rows_written:  # released when every row is good
            errors, duplicates, imported, matched = _import_rows(actor, lambda: iter_rows(content), progress)
            if errors:
                rows_written.rollback()  # any bad row: none of them stands
                imported, matched = 0, []
    batch.rows_total = total
    batch.errors = errors[:MAX_ERRORS] or None
    batch.duplicates = duplicates
    batch.matched = matched or None
    batch.rows_imported = imported
    batch.rows_processed = total
    batch.status = "rejected" if errors else "completed"
    batch.finished_at = utcnow()
    batch.payload = None  # the file holds personal data: not kept once imported or rejected
    db.session.flush()
    record_event(actor, "import.finish", batch, {"status": batch.status, "rows": batch.rows_total,
                                                 "imported": imported, "duplicates": duplicates,
                                                 "matched_existing_cases": len(matched),
                                                 "errors": len(errors)})
    return batch


class RowByRow:
    """Each row through the app's own services, in a savepoint of its own: the reference behaviour, which
    the set-based import (tts/imports/bulk.py) is tested against. TTS_IMPORT_SET_BASED=0 selects it."""

    def __init__(self, actor) -> None:
        self.actor = actor

    def case(self, person: PersonData, *, test_date, symptom_onset_date, referral_id):
        try:
            with db.session.begin_nested():
                case = create_case(self.actor, person, test_date=test_date, symptom_onset_date=symptom_onset_date,
                                   source=CaseSource.NATIONAL_REFERRAL, referral_id=referral_id)
                db.session.flush()
        except DuplicateCase as exc:
            raise AlreadyCase(exc.existing) from None
        return case

    def case_by_referral(self, referral_id: str):
        return db.session.scalar(select(Case).where(Case.referral_id == referral_id))

    def contact(self, case, person: PersonData, *, relationship, last_exposure_date, referral_id) -> None:
        with db.session.begin_nested():
            add_contact(self.actor, case, person, relationship=relationship,
                        last_exposure_date=last_exposure_date, referral_id=referral_id, source=ContactSource.IMPORT)
            db.session.flush()

    def begin_chunk(self, rows: list, carried: dict | None = None) -> None:
        """Each row is read as it comes."""

    def end_chunk(self) -> None:
        """Each row is written as it comes."""

    def write(self) -> None:
        """Everything is written already."""

    def close(self) -> None:
        """Nothing to stop."""


def _import_rows(actor, rows: "list[Row] | Callable[[], Iterator[Row]]", progress: Progress | None
                 ) -> tuple[list[dict], int, int, list[dict]]:
    from tts.imports.bulk import SetBased

    set_based = current_app.config.get("TTS_IMPORT_SET_BASED", True)
    backend = SetBased(actor, []) if set_based else RowByRow(actor)
    try:
        errors, duplicates, imported, matched = import_with(backend, rows, progress)
        if not errors:
            backend.write()  # a case made by this file has its id and reference from here
            _link_settings(actor, rows, {m["referral_id"]: m["case"] for m in matched})
    finally:
        backend.close()
    return errors, duplicates, imported, [{"row": m["row"], "referral_id": m["referral_id"], "case_id": m["case"].id,
                                           "case_reference": m["case"].reference} for m in matched]


def _link_settings(actor, rows: "list[Row] | Callable[[], Iterator[Row]]", matched: dict) -> None:
    """The `setting` column, once every row is written: a setting in the register is linked to the row's case
    or contact (the cluster rule runs, as when staff link one); a name it does not know waits for a supervisor
    to match (Places to match). Rows imported before are left as they were."""
    from tts.outbreaks.services import add_mention, find_setting, link

    for row in (rows() if callable(rows) else rows):
        if not row.setting or row.record_type not in ("case", "contact"):
            continue
        model = Case if row.record_type == "case" else Contact
        record = (matched.get(row.referral_id) if row.record_type == "case" else None) or db.session.scalar(
            select(model).where(model.referral_id == row.referral_id))
        if record is None:
            continue
        postcode = normalise_postcode(row.setting_postcode) if row.setting_postcode else None
        setting = find_setting(row.setting, postcode)
        subject = {"case": record} if row.record_type == "case" else {"contact": record}
        if setting is not None:
            link(actor, setting, source="import", **subject)
        else:
            add_mention(record, f"{row.setting}{', ' + postcode if postcode else ''}", source="import")


def import_with(backend, rows: "list[Row] | Callable[[], Iterator[Row]]", progress: Progress | None
                ) -> tuple[list[dict], int, int, list[dict]]:
    """The import's rules, row by row in file order (cases first), whichever backend applies them. `rows` is
    the file's rows, or a function that reads them again from the start each time it is called: a large file
    is then read twice (cases, then contacts), a part at a time, and never held whole."""
    read = rows if callable(rows) else (lambda: iter(rows))
    errors: list[dict] = []
    seen: dict[str, int] = {}
    duplicates = imported = 0
    matched: list[dict] = []
    cases_here: dict[str, object] = {}
    # Before any part is written: "imported before" means before this file (and the queries stay quick: once
    # the file's own rows are in, the planner's statistics no longer describe the tables).
    imported_before = _imported_before(read())
    done = 0
    for part, last in _parts(read, current_app.config["TTS_IMPORT_CHUNK_ROWS"]):
        backend.begin_chunk(part, {r.case_referral_id: cases_here[r.case_referral_id] for r in part
                                   if r.record_type == "contact" and r.case_referral_id in cases_here})
        for row in part:
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done)
            outcome = _apply_row(backend, row, seen, imported_before, cases_here, errors, matched)
            duplicates += outcome == "duplicate"
            imported += outcome == "imported"
        if not last:
            backend.end_chunk()  # written (in the import's transaction) and forgotten: one part in memory
    if progress and done >= PROGRESS_EVERY:
        progress(done)  # every row checked: what is left is saving them
    errors.sort(key=lambda e: (e["row"], e["column"]))
    return errors, duplicates, imported, matched


def _parts(read: "Callable[[], Iterator[Row]]", size: int) -> Iterator[tuple[list[Row], bool]]:
    """The rows, cases first (so contacts can name a case from further down the same file), in parts of at
    most `size`, cases and contacts never in one part (every contact's case is written before the contact is
    read). Each kind is a pass over the file. Yields (part, is_last)."""
    if size <= 0:  # TTS_IMPORT_CHUNK_ROWS=0: the whole file at once (faster, with memory that grows with the file)
        yield sorted(read(), key=lambda r: (r.record_type != "case", r._row)), True
        return

    def parts() -> Iterator[list[Row]]:
        for cases in (True, False):
            part: list[Row] = []
            for row in read():
                if (row.record_type == "case") == cases:
                    part.append(row)
                    if len(part) == size:
                        yield part
                        part = []
            if part:
                yield part

    previous = None
    for part in parts():
        if previous is not None:
            yield previous, False
        previous = part
    yield (previous if previous is not None else []), True


def _apply_row(backend, row: Row, seen: dict, imported_before: set, cases_here: dict, errors: list,
               matched: list) -> str | None:
    """One row through the import's rules: "imported", "duplicate", or None (a problem, or not a record)."""
    line = row._row
    problems = _check_row(row, seen)
    errors.extend({"row": line, "column": c, "message": m} for c, m in problems)
    if row.record_type not in ("case", "contact"):
        return None
    ref = row.referral_id
    if not problems and (row.record_type, ref) in imported_before:
        return "duplicate"  # imported before: reported, nothing changes
    # Even a row with problems goes through the rules, so every problem in it is reported; the
    # import is then rejected, so nothing from it is kept.
    reported = {c for c, _ in problems}
    dates = {c: _date_or_none(row[c]) for c in DATE_COLUMNS}
    person = PersonData(first_name=row.first_name, last_name=row.last_name,
                        date_of_birth=dates["date_of_birth"], phone=row.phone or None,
                        email=row.email or None, address=row.address or None, postcode=row.postcode or None,
                        language=row.language or None)
    try:
        if row.record_type == "case":
            try:
                case = backend.case(person, test_date=dates["test_date"],
                                    symptom_onset_date=dates["symptom_onset_date"],
                                    referral_id=None if problems else ref)
            except AlreadyCase as already:
                if not problems:
                    cases_here[ref] = already.case
                    matched.append({"row": line, "referral_id": ref, "case": already.case})
                return None
            if not problems:
                cases_here[ref] = case
        else:
            case = cases_here.get(row.case_referral_id) or backend.case_by_referral(row.case_referral_id)
            if case is None:
                if "case_referral_id" not in reported:
                    errors.append({"row": line, "column": "case_referral_id", "message":
                                   "No case with this referral id, in this file or imported before"})
                # The row's other problems are reported now too, not after the file is fixed and sent again.
                check_contact_alone(person, relationship=row.relationship or None,
                                    last_exposure_date=dates["last_exposure_date"])
                return None
            backend.contact(case, person, relationship=row.relationship or None,
                            last_exposure_date=dates["last_exposure_date"], referral_id=None if problems else ref)
    except ValidationFailed as exc:
        for key, messages in exc.errors.items():
            column = key.removeprefix("person.")
            if column not in reported:
                errors.extend({"row": line, "column": column, "message": m} for m in messages)
        return None
    return None if problems else "imported"


def _imported_before(rows: "Iterable[Row]", chunk: int = 500) -> set[tuple[str, str]]:
    """The file's referral ids already in the database, as (record type, id): one pass over the rows, then a
    few queries for the whole file instead of one a row."""
    wanted: dict[str, set[str]] = {"case": set(), "contact": set()}
    for row in rows:
        if row.record_type in wanted and row.referral_id:
            wanted[row.record_type].add(row.referral_id)
    found: set[tuple[str, str]] = set()
    for kind, model in (("case", Case), ("contact", Contact)):
        refs = sorted(wanted[kind])
        for start in range(0, len(refs), chunk):
            found.update((kind, ref) for ref in db.session.scalars(
                select(model.referral_id).where(model.referral_id.in_(refs[start:start + chunk]))))
    return found


def _check_row(row: Row, seen: dict[str, int]) -> list[tuple[str, str]]:
    problems = []
    ref = row.referral_id
    if not ref:
        problems.append(("referral_id", "Enter the referral id"))
    elif ref in seen:
        problems.append(("referral_id", f"The same referral id is on row {seen[ref]}"))
    else:
        seen[ref] = row._row
    if row.record_type not in ("case", "contact"):
        problems.append(("record_type", "Must be case or contact"))
    if row.record_type == "contact" and not row.case_referral_id:
        problems.append(("case_referral_id", "A contact must name their case's referral id"))
    for column in DATE_COLUMNS:
        if row[column]:
            try:
                parse_date(row[column])
            except ValueError as exc:
                problems.append((column, str(exc)))
    if len(row.setting) > 200:
        problems.append(("setting", "Keep the setting's name to 200 characters"))
    if row.setting_postcode:
        try:
            normalise_postcode(row.setting_postcode)
        except ValueError as exc:
            problems.append(("setting_postcode", str(exc)))
        if not row.setting:
            problems.append(("setting", "Name the setting this postcode is for"))
    return problems


def import_now_or_later(actor, file_name: str, content: str) -> ImportBatch:
    """Small files import in the request; large ones are left for the worker (with a progress bar)."""
    batch = create_batch(actor, file_name, content)
    rows = content.count("\n")
    if rows <= current_app.config["TTS_IMPORT_INLINE_MAX_ROWS"]:
        run_import(actor, batch)
    else:
        batch.rows_total = max(rows - 1, 0)
    return batch


# --- In the worker ---------------------------------------------------------------------------------------

FAILED = ("The import stopped on an unexpected error and nothing was imported. Upload the file again; if it "
          "fails again, tell your system administrator the import's number.")
_progress_here: dict[int, int] = {}  # SQLite: the import holds the write lock, so progress lives in memory


def progress_of(batch: ImportBatch) -> int:
    return max(batch.rows_processed, _progress_here.get(batch.id, 0))


@job("imports")
def run_pending_imports() -> int:
    """Take one pending batch (SKIP LOCKED, so one worker per file) and import it."""
    return run_pending(ImportBatch, _import_batch, _import_failed, status="processing")


def _import_batch(batch_id: int) -> None:
    from tts.auth.models import User

    batch = db.session.get(ImportBatch, batch_id)
    actor = db.session.get(User, batch.created_by_id) if batch.created_by_id else None
    postgres = db.session.get_bind().dialect.name == "postgresql"

    def progress(done: int) -> None:
        _progress_here[batch_id] = done
        if postgres:  # a second connection, so the browser sees it while the import is uncommitted
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE import_batches SET rows_processed = :n WHERE id = :id"),
                             {"n": done, "id": batch_id})

    try:
        run_import(actor, batch, progress)
    finally:
        _progress_here.pop(batch_id, None)


def _import_failed(batch_id: int, _error: Exception) -> None:
    """Say so on the batch instead of leaving it "processing" for ever. The detail goes to the log only (it
    can quote the file's values); the import's own writes are already rolled back."""
    from tts.auth.models import User

    log.exception("import batch %s failed", batch_id)
    batch = db.session.get(ImportBatch, batch_id)
    actor = db.session.get(User, batch.created_by_id) if batch.created_by_id else None
    batch.status, batch.payload, batch.finished_at = "failed", None, utcnow()
    batch.errors = [{"row": 1, "column": "", "message": FAILED}]
    record_event(actor, "import.finish", batch, {"status": "failed"})


def history():
    return select(ImportBatch).order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())


TEMPLATE_CSV = ",".join((*COLUMNS, *OPTIONAL_COLUMNS)) + "\n"
