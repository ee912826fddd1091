"""Possible duplicates: two records that are probably one person, for a supervisor to merge or dismiss.

A pair is listed when the two share a date of birth and
- the same first and last name (`same_name_and_date_of_birth`), or
- the same phone number and names alike (`same_phone_and_date_of_birth`: "Jon" and "John", a surname
  misspelt; twins on a parent's phone have different first names and are never listed), or
- the same email address and a first name alike (`same_email`).
People merged away, anonymised, or already said to be different people are left out. Recent records are
compared with everyone: duplicates are made when a record is added, so the list looks at people added in
the last `days` days (the index on date of birth finds their matches).
"""
from dataclasses import dataclass
from datetime import timedelta
from difflib import SequenceMatcher

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from tts.audit.services import record_event
from tts.clock import utcnow
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.people.models import NotDuplicate, Person

REASON_LABELS = {
    "same_name_and_date_of_birth": "Same name and date of birth",
    "same_phone_and_date_of_birth": "Same phone number and date of birth, names alike",
    "same_email": "Same email address and date of birth, first names alike",
}
DEFAULT_DAYS = 30
LIMIT = 200


@dataclass
class DuplicatePair:
    person: Person  # the lower id
    other: Person
    reasons: list[str]


def _alike(a: str | None, b: str | None) -> bool:
    a, b = (a or "").strip().lower(), (b or "").strip().lower()
    if not a or not b:
        return False
    return a == b or a.startswith(b) or b.startswith(a) or SequenceMatcher(None, a, b).ratio() >= 0.8


def reasons_for(a: Person, b: Person) -> list[str]:
    """Why `a` and `b` may be one person (empty: they are not alike enough)."""
    if a.date_of_birth is None or a.date_of_birth != b.date_of_birth:
        return []
    reasons = []
    if a.first_name.lower() == b.first_name.lower() and a.last_name.lower() == b.last_name.lower():
        reasons.append("same_name_and_date_of_birth")
    if a.phone and a.phone == b.phone and _alike(a.first_name, b.first_name) and _alike(a.last_name, b.last_name):
        reasons.append("same_phone_and_date_of_birth")
    if a.email and a.email.lower() == (b.email or "").lower() and _alike(a.first_name, b.first_name):
        reasons.append("same_email")
    return reasons


def _active(person):
    return and_(person.merged_into_id.is_(None), person.anonymised_at.is_(None))


def possible_duplicates(*, days: int = DEFAULT_DAYS, limit: int = LIMIT) -> list[DuplicatePair]:
    """Pairs that may be one person, where at least one was added in the last `days` days; newest first."""
    a, b = aliased(Person), aliased(Person)
    since = utcnow() - timedelta(days=days)
    dismissed = select(NotDuplicate.id).where(NotDuplicate.person_id == func.least(a.id, b.id),
                                              NotDuplicate.other_id == func.greatest(a.id, b.id))
    if db.engine.dialect.name == "sqlite":  # SQLite's two-argument min and max are least and greatest
        dismissed = select(NotDuplicate.id).where(NotDuplicate.person_id == func.min(a.id, b.id),
                                                  NotDuplicate.other_id == func.max(a.id, b.id))
    stmt = (select(a, b).join(b, and_(b.date_of_birth == a.date_of_birth, b.id != a.id))
            .where(a.created_at >= since, a.date_of_birth.is_not(None), _active(a), _active(b),
                   or_(b.created_at < a.created_at, and_(b.created_at == a.created_at, b.id < a.id)),
                   or_(and_(func.lower(a.first_name) == func.lower(b.first_name),
                            func.lower(a.last_name) == func.lower(b.last_name)),
                       a.phone == b.phone, func.lower(a.email) == func.lower(b.email)),
                   ~dismissed.exists())
            .order_by(a.created_at.desc(), a.id.desc()).limit(limit * 3))
    pairs = []
    for newer, older in db.session.execute(stmt):
        reasons = reasons_for(newer, older)
        if reasons:
            first, second = sorted((newer, older), key=lambda p: p.id)
            pairs.append(DuplicatePair(first, second, reasons))
        if len(pairs) >= limit:
            break
    return pairs


def dismiss(actor, person: Person, other: Person) -> NotDuplicate:
    """A supervisor says these are two different people: they are not listed again."""
    errors = ErrorCollector()
    if person.id == other.id:
        errors.add("other_id", "Choose two different records")
    errors.raise_if_any()
    low, high = sorted((person.id, other.id))
    row = db.session.scalar(select(NotDuplicate).where(NotDuplicate.person_id == low, NotDuplicate.other_id == high))
    if row is None:
        row = NotDuplicate(person_id=low, other_id=high, decided_by_id=getattr(actor, "id", None))
        db.session.add(row)
        db.session.flush()
    record_event(actor, "person.not_duplicate", person, {"other_id": other.id})
    return row
