"""The one place the app reads the time, so rules can be tested with a controlled clock."""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Europe/London, the date staff and the public mean."""
    return utcnow().astimezone(LONDON).date()


def london_midnight(day: date) -> datetime:
    """The UTC instant at which `day` starts in Europe/London."""
    return datetime.combine(day, time(0, 0), tzinfo=LONDON).astimezone(UTC)


def to_london(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)


__all__ = ["LONDON", "utcnow", "today", "london_midnight", "to_london", "timedelta"]
