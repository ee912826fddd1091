"""Calling hours (TTS_CALLING_HOURS, Europe/London) and the retry schedule that respects them."""
from datetime import datetime, time, timedelta

from flask import current_app

from tts.clock import LONDON, to_london


def calling_window() -> tuple[time, time]:
    start, _, end = current_app.config["TTS_CALLING_HOURS"].partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def _london(day, clock: time) -> datetime:
    # zoneinfo resolves the offset (GMT or BST) for that date and time.
    return datetime.combine(day, clock, tzinfo=LONDON)


def is_calling_time(moment: datetime) -> bool:
    start, end = calling_window()
    local = to_london(moment).time()
    return start <= local < end


def next_calling_start(moment: datetime) -> datetime:
    """When calling next opens after `moment` (today's opening if before it, else tomorrow's)."""
    start, _ = calling_window()
    local = to_london(moment)
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return _london(day, start).astimezone(moment.tzinfo)


def calling_day_end(moment: datetime) -> datetime:
    _, end = calling_window()
    return _london(to_london(moment).date(), end).astimezone(moment.tzinfo)


def within_calling_hours(moment: datetime) -> datetime:
    """`moment` itself if calls may be made then, else when calling next opens."""
    return moment if is_calling_time(moment) else next_calling_start(moment)


def retry_at(now: datetime, failed_attempts: int) -> datetime:
    """After the n-th failed call: 2 h, then 4 h, then next morning; always inside calling hours."""
    delays = [float(h) for h in current_app.config["TTS_RETRY_DELAYS_HOURS"].split(",") if h.strip()]
    if failed_attempts <= len(delays):
        return within_calling_hours(now + timedelta(hours=delays[failed_attempts - 1]))
    return next_calling_start(now)
