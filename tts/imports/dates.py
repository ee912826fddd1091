"""Dates in a referral file: the two forms it may use. Below both the row-by-row and the set-based import."""
import functools
from datetime import date, datetime


@functools.lru_cache(maxsize=4096)  # a file repeats its test and exposure dates many times
def parse_date(raw: str) -> date:
    raw = raw.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError("Use a date like 2026-11-23 or 23/11/2026")


def date_or_none(raw: str) -> date | None:
    try:
        return parse_date(raw) if raw else None
    except ValueError:
        return None
