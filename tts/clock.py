"""The one place the app reads the time, so rules can be tested with a controlled clock, and so the capacity
planner (tts/simulation) can run whole days through the real services on a simulated clock."""
import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_simulated: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("tts_simulated_now", default=None)


def utcnow() -> datetime:
    simulated = _simulated.get()
    return simulated if simulated is not None else datetime.now(UTC)


@contextlib.contextmanager
def simulated_clock(start: datetime) -> Iterator["SimulatedClock"]:
    """Within this block (this thread or task only), the app's time is what the returned clock says."""
    clock = SimulatedClock()
    token = _simulated.set(start.astimezone(UTC))
    try:
        yield clock
    finally:
        _simulated.reset(token)


class SimulatedClock:
    @staticmethod
    def now() -> datetime:
        return _simulated.get()  # type: ignore[return-value]

    @staticmethod
    def set(moment: datetime) -> None:
        if moment < _simulated.get():  # type: ignore[operator]
            raise ValueError("a simulated clock never runs backwards")
        _simulated.set(moment.astimezone(UTC))


def today() -> date:
    """Today's date in Europe/London, the date staff and the public mean."""
    return utcnow().astimezone(LONDON).date()


def london_midnight(day: date) -> datetime:
    """The UTC instant at which `day` starts in Europe/London."""
    return datetime.combine(day, time(0, 0), tzinfo=LONDON).astimezone(UTC)


def to_london(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)


__all__ = ["LONDON", "utcnow", "today", "london_midnight", "to_london", "timedelta", "simulated_clock"]
