"""The export datasets, each declared once: its record, and its fields in order, each with a kind.

From a declaration come the statement (the record's columns and the person's, labelled), the header
line, the Python formatting of a row (`Dataset.row`) and the SQL formatting PostgreSQL's COPY uses
(`Dataset.sql`, read by tts/reports/copy_csv.py). A field's kind says how its value is written:

- int, text: as they are (text gets the spreadsheet formula guard when written out);
- date, ts: ISO 8601 (times in UTC);
- household: the person's household, for a household contact only;
- pseudonym, age_band, district: the pseudonymised person (HMAC of the id, age band at the export date
  or the band given, the postcode's district).

Pseudonymised by default: the identifiable person's fields, and free-text notes (which can hold
anything), only in identifiable exports.
"""
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from operator import attrgetter

from flask import current_app
from sqlalchemy import Select, case, func, select

from tts.callqueue.models import CallAttempt
from tts.cases.models import Case, Contact
from tts.escalation.models import Escalation
from tts.outbreaks.models import Outbreak, OutbreakCase, Setting, SettingLink
from tts.people.models import Person
from tts.people.validation import postcode_district
from tts.support.models import SupportNeed

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula
AGE_BANDS = ((0, 4), (5, 11), (12, 17), (18, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79))


@dataclass(frozen=True)
class Field:
    header: str
    kind: str
    source: str = ""  # the statement's column label it is written from (default: the header)
    identifiable_only: bool = False

    @property
    def label(self) -> str:
        return self.source or self.header


PERSON = Field("", "person")  # where the person's fields go: identifiable or pseudonymised
_IDENTIFIABLE_PERSON = (Field("person_id", "int", "p_id"), Field("first_name", "text", "p_first_name"),
                        Field("last_name", "text", "p_last_name"), Field("date_of_birth", "date", "p_date_of_birth"),
                        Field("phone", "text", "p_phone"), Field("email", "text", "p_email"),
                        Field("address", "text", "p_address"), Field("postcode", "text", "p_postcode"))
_PSEUDONYMOUS_PERSON = (Field("pseudonymous_id", "pseudonym", "p_id"),
                        Field("age_band", "age_band", "p_date_of_birth"),
                        Field("postcode_district", "district", "p_postcode"))
# The person's columns every dataset selects, labelled so that they never clash with the record's own.
_PERSON_COLUMNS = (Person.id.label("p_id"), Person.first_name.label("p_first_name"),
                   Person.last_name.label("p_last_name"), Person.date_of_birth.label("p_date_of_birth"),
                   Person.phone.label("p_phone"), Person.email.label("p_email"), Person.address.label("p_address"),
                   Person.postcode.label("p_postcode"), Person.age_band.label("p_age_band"),
                   Person.household_id.label("p_household_id"))
NOTES = Field("notes", "text", identifiable_only=True)

DECLARED: dict[str, tuple[type, tuple[Field, ...]]] = {
    "cases": (Case, (
        Field("case_id", "int", "id"), Field("reference", "text"), PERSON, Field("source", "text"),
        Field("status", "text"), Field("test_date", "date"), Field("symptom_onset_date", "date"),
        Field("isolation_end_date", "date"), Field("created_at", "ts"), Field("setting_kind", "text"))),
    "contacts": (Contact, (
        Field("contact_id", "int", "id"), Field("case_id", "int"), PERSON, Field("relationship", "text"),
        Field("household_id", "household", "p_household_id"), Field("last_exposure_date", "date"),
        Field("quarantine_end_date", "date"), Field("created_at", "ts"), Field("status", "text"),
        Field("source", "text"), Field("reached_by", "text"), Field("setting_kind", "text"))),
    "attempts": (CallAttempt, (
        Field("attempt_id", "int", "id"), Field("work_item_id", "int"), PERSON, Field("tracer_id", "int"),
        Field("outcome", "text"), Field("call_status", "text"), Field("duration_seconds", "int"),
        Field("created_at", "ts"), NOTES)),
    "escalations": (Escalation, (
        Field("escalation_id", "int", "id"), PERSON, Field("reason", "text"), Field("status", "text"),
        Field("visit_outcome", "text"), Field("created_at", "ts"), Field("resolved_at", "ts"))),
    "support_needs": (SupportNeed, (
        Field("support_need_id", "int", "id"), PERSON, Field("kind", "text"), Field("urgency", "text"),
        Field("status", "text"), Field("referred_to", "text"), Field("created_at", "ts"), Field("closed_at", "ts"),
        NOTES)),
    # Not about one person: the outbreaks, with their setting (its name and full postcode only in an
    # identifiable export; the kind and the postcode's district always).
    "outbreaks": (Outbreak, (
        Field("outbreak_id", "int", "id"), Field("reference", "text"), Field("setting_id", "int"),
        Field("setting_kind", "text"), Field("setting_name", "text", identifiable_only=True),
        Field("setting_postcode", "text", "s_postcode", identifiable_only=True),
        Field("setting_postcode_district", "district", "s_postcode"), Field("status", "text"),
        Field("opened_at", "ts"), Field("opened_by_rule", "int"), Field("case_count", "int"),
        Field("first_test_date", "date"), Field("last_test_date", "date"), Field("closed_at", "ts"))),
}
DATASETS = tuple(DECLARED)
NOT_PERSONAL = ("outbreaks",)  # datasets whose rows are not people


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
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return "80+"


def safe_cell(value):
    """Neutralise spreadsheet formula injection: text that could start a formula is shown as text."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def _iso(value):
    return value.isoformat() if value is not None else None


def _formatter(field: Field) -> Callable:
    """(result row, export date) -> the field's value, as the Python path writes it."""
    get = attrgetter(field.label)
    kind = field.kind
    if kind in ("int", "text"):
        return lambda r, on: get(r)
    if kind in ("date", "ts"):
        return lambda r, on: _iso(get(r))
    if kind == "household":
        return lambda r, on: get(r) if r.relationship == "household" else None
    if kind == "pseudonym":
        return lambda r, on: pseudonym(get(r))
    if kind == "age_band":
        return lambda r, on: age_band(get(r), on) or r.p_age_band
    if kind == "district":
        return lambda r, on: postcode_district(get(r))
    raise ValueError(f"unknown kind {kind!r} of field {field.header!r}")


@dataclass
class Dataset:
    name: str
    statement: Select  # plain columns, never ORM objects: an export of a million rows builds no entities
    fields: tuple[Field, ...]
    identifiable: bool = False

    @property
    def columns(self) -> list[str]:
        return [f.header for f in self.fields]

    @property
    def sql(self) -> list[tuple[str, str]]:
        """(kind, label) per field: what tts/reports/copy_csv.py turns into SQL expressions."""
        return [(f.kind, f.label) for f in self.fields]

    def __post_init__(self) -> None:
        formatters = [_formatter(f) for f in self.fields]
        self.row = lambda r, on: [format_(r, on) for format_ in formatters]


def _setting_kind(subject):
    """The kind of a setting the case or contact attended (of several, the first by name of kind: care homes
    first), for splitting an export by setting kind."""
    column = SettingLink.case_id if subject is Case else SettingLink.contact_id
    return (select(func.min(Setting.kind)).join(SettingLink, SettingLink.setting_id == Setting.id)
            .where(column == subject.id).scalar_subquery())


def _outbreaks(filters) -> Select:
    members = (select(OutbreakCase.outbreak_id, func.count().label("n"), func.min(Case.test_date).label("first"),
                      func.max(Case.test_date).label("last")).join(Case, Case.id == OutbreakCase.case_id)
               .group_by(OutbreakCase.outbreak_id).subquery())
    return (select(Outbreak.id.label("id"), Outbreak.reference.label("reference"),
                   Outbreak.setting_id.label("setting_id"), Setting.kind.label("setting_kind"),
                   Setting.name.label("setting_name"), Setting.postcode.label("s_postcode"),
                   Outbreak.status.label("status"), Outbreak.opened_at.label("opened_at"),
                   case((Outbreak.opened_by_id.is_(None), 1), else_=0).label("opened_by_rule"),
                   func.coalesce(members.c.n, 0).label("case_count"), members.c.first.label("first_test_date"),
                   members.c.last.label("last_test_date"), Outbreak.closed_at.label("closed_at"))
            .join(Setting, Setting.id == Outbreak.setting_id)
            .outerjoin(members, members.c.outbreak_id == Outbreak.id)
            .where(Outbreak.opened_at >= filters.start, Outbreak.opened_at < filters.end).order_by(Outbreak.id))


def dataset(name: str, filters, identifiable: bool) -> Dataset:
    """The dataset `name` for records created in the filters' dates. KeyError for an unknown name."""
    model, declared = DECLARED[name]
    if name in NOT_PERSONAL:
        fields = tuple(f for f in declared if identifiable or not f.identifiable_only)
        return Dataset(name, _outbreaks(filters), fields, identifiable)
    fields: list[Field] = []
    for f in declared:
        if f is PERSON:
            fields.extend(_IDENTIFIABLE_PERSON if identifiable else _PSEUDONYMOUS_PERSON)
        elif identifiable or not f.identifiable_only:
            fields.append(f)
    record = {f.label: f.label for f in declared if f is not PERSON and not f.label.startswith("p_")}
    columns = [_setting_kind(model) if label == "setting_kind" else
               getattr(model, label) if hasattr(model, label) else getattr(model, label + "_") for label in record]
    statement = (select(*(c.label(label) for c, label in zip(columns, record)), *_PERSON_COLUMNS)
                 .select_from(model).join(Person, Person.id == model.person_id)
                 .where(model.created_at >= filters.start, model.created_at < filters.end).order_by(model.id))
    return Dataset(name, statement, tuple(fields), identifiable)
