"""Finding cases: the Cases list's search, filters, sort and pages, for the web page and the API alike.

`q` is read as whatever it could be, and a case matching any reading is found: a case reference (with or
without "TTS-"), a phone number in any UK format, a postcode or postcode district, or part of a surname (3
letters or more; "Ann Smi" is a first name starting "Ann" and a surname containing "smi"). On PostgreSQL a
trigram index (pg_trgm) serves the partial surname.

Least privilege: a tracer finds only the cases on their own work (docs/security.md), supervisors any.
"""
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Integer, any_, bindparam, cast, false, func, or_, select, union
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import contains_eager

from tts.cases.models import Case, CaseSource, CaseStatus, Contact
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.input_guard import INT32_MAX, bounded_int
from tts.people.models import Person
from tts.people.validation import normalise_phone, normalise_postcode
from tts.permissions import has_permission

SEARCH_FIELDS = ("q", "status", "tracer_id", "source", "district", "date_from", "date_to", "sort", "per_page")
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
MIN_NAME_LETTERS = 3
COUNT_CAP = 500

SORTS = {
    "newest": ("Newest logged first", (Case.created_at.desc(), Case.id.desc())),
    "oldest": ("Oldest logged first", (Case.created_at, Case.id)),
    "test_date": ("Latest test date first", (Case.test_date.desc(), Case.id.desc())),
    "isolation_end": ("Isolation ending soonest", (Case.isolation_end_date, Case.id)),
    "name": ("Surname A to Z", (Person.last_name, Person.first_name, Case.id)),
}

_REFERENCE = re.compile(r"^(TTS-?)?([23456789ABCDEFGHJKMNPQRSTVWXYZ]{5})$")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
_NAME = re.compile(r"^[^\W\d_][^\W\d_' .-]*(?:['. -]+[^\W\d_]+)*\.?$")


@dataclass
class CaseSearch:
    """What to find. Built by `parse_search` from a query string or a form (strings), checked there."""

    q: str = ""
    status: str = ""
    tracer_id: int | None = None
    source: str = ""
    district: str = ""
    date_from: date | None = None  # test date, inclusive
    date_to: date | None = None
    sort: str = "newest"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def is_filtered(self) -> bool:
        return any((self.q, self.status, self.tracer_id, self.source, self.district, self.date_from, self.date_to))


@dataclass
class CasePage:
    items: list[Case]
    total: int
    page: int
    per_page: int
    matched_by: list[str] = field(default_factory=list)  # how q was read: reference, phone, postcode, name
    contact_counts: dict[int, int] = field(default_factory=dict)
    more: bool = False  # more than COUNT_CAP match: `total` is COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _whole(errors: ErrorCollector, args: Mapping, key: str, default: int, low: int, high: int | None) -> int:
    raw = (args.get(key) or "").strip()
    if not raw:
        return default
    number = bounded_int(raw, low, high or INT32_MAX)
    if number is None:
        errors.add(key, f"Enter a whole number from {low}" + (f" to {high}" if high else " or more"))
        return default
    return number


def _iso(errors: ErrorCollector, args: Mapping, key: str) -> date | None:
    raw = (args.get(key) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _raise()
    except ValueError:
        errors.add(key, "Enter a real date in the form YYYY-MM-DD, for example 2026-12-01")
        return None


def _raise():
    raise ValueError


def parse_search(args: Mapping) -> CaseSearch:
    """A CaseSearch from strings (request.args, a form, the session); ValidationFailed names each bad one."""
    errors = ErrorCollector()
    search = CaseSearch(q=" ".join((args.get("q") or "").split())[:100])
    status = (args.get("status") or "").strip()
    if status and status not in CaseStatus.labels():
        errors.add("status", "Choose a status from the list: " + ", ".join(CaseStatus.labels()))
    search.status = status
    source = (args.get("source") or "").strip()
    if source and source not in {s.value for s in CaseSource}:
        errors.add("source", "Choose a source from the list: " + ", ".join(s.value for s in CaseSource))
    search.source = source
    tracer = (args.get("tracer_id") or "").strip()
    if tracer:
        search.tracer_id = bounded_int(tracer, 1)
        if search.tracer_id is None:
            errors.add("tracer_id", "Choose a tracer from the list")
    district = re.sub(r"\s+", "", args.get("district") or "").upper()
    if district and not _DISTRICT.match(district):
        errors.add("district", "Enter a postcode district, the first half of a postcode, like S11")
    search.district = district
    search.date_from, search.date_to = _iso(errors, args, "date_from"), _iso(errors, args, "date_to")
    if search.date_from and search.date_to and search.date_from > search.date_to:
        errors.add("date_to", "The end of the date range must be the same as or after its start")
    sort = (args.get("sort") or "newest").strip()
    if sort not in SORTS:
        errors.add("sort", "Choose a sort order: " + ", ".join(SORTS))
        sort = "newest"
    search.sort = sort
    search.page = _whole(errors, args, "page", 1, 1, None)
    search.per_page = _whole(errors, args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    if search.q:
        _readings(search.q, errors)
    errors.raise_if_any()
    return search


def _readings(q: str, errors: ErrorCollector | None = None) -> list[tuple[str, object]]:
    """Every way `q` can be read, each with the condition it adds."""
    readings: list[tuple[str, object]] = []
    upper = q.upper().replace(" ", "")
    if m := _REFERENCE.match(upper):
        readings.append(("reference", Case.reference == "TTS-" + m.group(2)))
    if sum(ch.isdigit() for ch in q) >= 9 and re.fullmatch(r"[\d\s()+-]+", q):
        try:
            readings.append(("phone", Person.phone == normalise_phone(q)))
        except ValueError:
            pass
    try:
        readings.append(("postcode", Person.postcode == normalise_postcode(q)))
    except ValueError:
        if _DISTRICT.match(upper):
            readings.append(("postcode", Person.postcode.like(upper + " %")))
    words = q.split()
    if _NAME.match(q) and len(words[-1]) >= MIN_NAME_LETTERS:
        surname = words[-1].lower().replace("%", "").replace("_", "")
        condition = Person.last_name.ilike(f"%{surname}%")
        if len(words) > 1:
            condition = condition & Person.first_name.ilike(" ".join(words[:-1]).lower() + "%")
        readings.append(("name", condition))
    if not readings and errors is not None:
        errors.add("q", f"Enter at least {MIN_NAME_LETTERS} letters of a surname, a case reference like "
                        "TTS-7K2Q9, a phone number or a postcode")
    return readings


def visible_to(actor) -> list[int] | None:
    """The ids of the cases `actor` may find: None (every case) for supervisors; else those on their work
    (people.access.may_view_person's rule, as a set: logged, given, held or called by them, or found by an
    exact search this session)."""
    from tts.people.access import found_ids

    if has_permission(actor, "case.view_all"):
        return None
    return _cases_of(actor.id, with_queue=True, found=found_ids())


def handled_by(tracer_id: int) -> list[int]:
    """The ids of the cases a tracer logged, was given, or called."""
    return _cases_of(tracer_id, with_queue=False)


def _cases_of(user_id: int, *, with_queue: bool, found=()) -> list[int]:
    """The cases a user logged or was given, and those of the people they called (and, `with_queue`, those
    whose calls they hold or were assigned), and of `found` people.

    One statement, each part by its own index: the people (from the call log's and the queue's indexes
    alone), then the cases of those people, of those they logged and of those they were given, as a UNION
    (an OR of the parts would read every case). On PostgreSQL the people go to the cases as one array, and
    the answer comes back as one array value, not thousands of rows."""
    from tts.callqueue.models import CallAttempt, WorkItem

    parts = [select(CallAttempt.person_id).where(CallAttempt.tracer_id == user_id)]
    if with_queue:
        parts += [select(WorkItem.person_id).where(WorkItem.claimed_by_id == user_id),
                  select(WorkItem.person_id).where(WorkItem.assignee_id == user_id, WorkItem.assignee_id.is_not(None))]
    people = union(*parts).subquery()
    arms = [select(Case.id).where(Case.created_by_id == user_id), select(Case.id).where(Case.assigned_to_id == user_id)]
    if found:
        arms.append(select(Case.id).where(Case.person_id.in_(list(found))))
    if db.session.get_bind().dialect.name != "postgresql":
        arms.append(select(Case.id).where(Case.person_id.in_(select(people.c.person_id))))
        return sorted(set(db.session.scalars(union(*arms))))
    arms.append(select(Case.id).where(Case.person_id == any_(cast(  # the array, not "any row of the query"
        select(func.array_agg(people.c.person_id)).scalar_subquery(), ARRAY(Integer)))))
    ids = union(*arms).subquery()
    return sorted(db.session.scalar(select(func.array_agg(ids.c.id))) or [])


def _one_of(column, ids: set[int]):
    """`column IN ids`, as one array parameter on PostgreSQL (a tracer's work can be thousands of cases)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, sorted(ids), type_=ARRAY(Integer)))
    return column.in_(sorted(ids))


def find_cases(actor, search: CaseSearch) -> CasePage:
    """One page of the cases `actor` may see that match `search`, and how many match in all."""
    conditions = []
    readings = _readings(search.q) if search.q else []
    if readings:
        conditions.append(or_(*(condition for _, condition in readings)))
    # The sets of cases a rule allows (a tracer's own; those a chosen tracer handled), intersected here.
    visible = visible_to(actor)
    if search.tracer_id:
        chosen = set(handled_by(search.tracer_id))
        visible = sorted(chosen if visible is None else chosen & set(visible))
    if visible is not None:
        conditions.append(_one_of(Case.id, set(visible)) if visible else false())
    if search.status:
        conditions.append(Case.status == search.status)
    if search.source:
        conditions.append(Case.source == search.source)
    if search.district:
        conditions.append(Person.postcode.like(search.district + " %"))
    if search.date_from:
        conditions.append(Case.test_date >= search.date_from)
    if search.date_to:
        conditions.append(Case.test_date <= search.date_to)
    needs_person = bool(readings) or bool(search.district)
    order = SORTS[search.sort][1]
    offset = (search.page - 1) * search.per_page
    beyond = offset >= COUNT_CAP  # pages stop at the first COUNT_CAP matches
    joined = select(Case).join(Person, Person.id == Case.person_id).options(contains_eager(Case.person))
    items: list[Case] = []
    counted = None
    if visible is not None and len(conditions) == 1:
        counted = len(visible)  # a tracer's own list, unfiltered: counted already
    elif visible is not None and not beyond:
        # A search among one tracer's cases (a few thousand at most): read once, counted as they are paged.
        rows = db.session.execute(joined.add_columns(func.count().over()).where(*conditions).order_by(*order)
                                  .offset(offset).limit(search.per_page)).all()
        items = [case for case, _ in rows]
        counted = rows[0][1] if rows else (0 if offset == 0 else None)
    if counted is None:
        # Counted up to COUNT_CAP: past that, "more than 500" says what a person needs (narrow the search),
        # and counting every one of a common surname's cases would cost more than the page itself.
        matching = select(Case.id)
        if needs_person:
            matching = matching.join(Person, Person.id == Case.person_id)
        counted = db.session.scalar(select(func.count()).select_from(
            matching.where(*conditions).limit(COUNT_CAP + 1).subquery())) or 0
    if not items and not beyond:
        if needs_person or search.sort == "name":
            stmt = joined.where(*conditions).order_by(*order).offset(offset).limit(search.per_page)
        else:  # the page's cases first, then their people: only the page's rows are joined
            page_ids = select(Case.id).where(*conditions).order_by(*order).offset(offset).limit(search.per_page)
            stmt = joined.where(Case.id.in_(page_ids)).order_by(*order)
        items = list(db.session.scalars(stmt))
    counts = {}
    if items:
        counts = dict(db.session.execute(select(Contact.case_id, func.count()).where(
            Contact.case_id.in_([c.id for c in items])).group_by(Contact.case_id)).all())
    return CasePage(items, min(counted, COUNT_CAP), search.page, search.per_page, [kind for kind, _ in readings],
                    counts, more=counted > COUNT_CAP)
