"""Calling hours and the retry schedule, in Europe/London across the clock changes."""
from datetime import UTC, datetime

import pytest

from tts.callqueue.hours import calling_day_end, is_calling_time, next_calling_start, retry_at, within_calling_hours


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def ctx(app):
    with app.app_context():
        yield


def test_calling_hours_are_london_time():
    assert is_calling_time(utc(2026, 11, 23, 8, 0))  # GMT: 08:00 London
    assert not is_calling_time(utc(2026, 11, 23, 7, 59))
    assert not is_calling_time(utc(2026, 11, 23, 20, 0))
    assert is_calling_time(utc(2026, 7, 1, 7, 0))  # BST: 08:00 London
    assert not is_calling_time(utc(2026, 7, 1, 19, 0))  # BST: 20:00 London


def test_next_calling_start():
    assert next_calling_start(utc(2026, 11, 23, 6, 0)) == utc(2026, 11, 23, 8, 0)
    assert next_calling_start(utc(2026, 11, 23, 21, 0)) == utc(2026, 11, 24, 8, 0)
    assert next_calling_start(utc(2026, 3, 28, 21, 0)) == utc(2026, 3, 29, 7, 0)  # clocks go forward overnight
    assert calling_day_end(utc(2026, 11, 23, 12, 0)) == utc(2026, 11, 23, 20, 0)


def test_retry_schedule_two_hours_four_hours_then_next_morning():
    ten = utc(2026, 11, 23, 10, 0)
    assert retry_at(ten, 1) == utc(2026, 11, 23, 12, 0)
    assert retry_at(ten, 2) == utc(2026, 11, 23, 14, 0)
    assert retry_at(ten, 3) == utc(2026, 11, 24, 8, 0)
    # A retry that would fall after 20:00 waits for the morning.
    assert retry_at(utc(2026, 11, 23, 18, 30), 1) == utc(2026, 11, 24, 8, 0)
    assert within_calling_hours(utc(2026, 11, 23, 3, 0)) == utc(2026, 11, 23, 8, 0)


def test_calling_hours_come_from_config(app):
    app.config["TTS_CALLING_HOURS"] = "09:30-17:00"
    try:
        assert not is_calling_time(utc(2026, 11, 23, 9, 0))
        assert is_calling_time(utc(2026, 11, 23, 9, 30))
        assert not is_calling_time(utc(2026, 11, 23, 17, 0))
    finally:
        app.config["TTS_CALLING_HOURS"] = "08:00-20:00"
