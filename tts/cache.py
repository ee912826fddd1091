"""A small per-process cache with a time-to-live, for expensive aggregates that may be a little stale.

Used for the supervisor dashboard's figures (TTS_DASHBOARD_CACHE_SECONDS, default 20: the panel
refreshes every 30) and the KPI figures (TTS_KPI_CACHE_SECONDS, default 300). Pages say how fresh their
figures are. Values must be plain data, never ORM objects (they outlive the request's session).
"""
import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")
_lock = threading.Lock()
_values: dict[Hashable, tuple[float, float, object]] = {}  # key -> (expires, computed_at, value)


def cached(key: Hashable, ttl_setting: str, compute: Callable[[], T]) -> tuple[T, float]:
    """The cached value and the time it was computed (epoch seconds); computed again once stale."""
    ttl = current_app.config.get(ttl_setting, 0)
    now = time.time()
    full_key = (current_app.import_name, id(current_app), key)
    if ttl > 0:
        with _lock:
            hit = _values.get(full_key)
        if hit is not None and hit[0] > now:
            return hit[2], hit[1]  # type: ignore[return-value]
    value = compute()
    if ttl > 0:
        with _lock:
            _values[full_key] = (now + ttl, now, value)
            if len(_values) > 500:  # many filter combinations: drop the oldest half
                for stale in sorted(_values, key=lambda k: _values[k][0])[:250]:
                    _values.pop(stale, None)
    return value, now


def clear() -> None:
    with _lock:
        _values.clear()


def for_transaction(key: Hashable, compute: Callable[[], T]) -> T:
    """A value looked up once per database transaction (a request, a worker step): for rows that change
    rarely but are read several times in one transaction, such as SMS templates. The next transaction
    reads them afresh, so an admin's change applies at once; ORM objects are fine here (same session)."""
    from tts.extensions import db

    session = db.session()
    transaction = session.get_transaction() or session.begin()  # begin: what the first query would do
    held = session.info.get("tts_tx_cache")
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info["tts_tx_cache"] = held
    values = held[1]
    if key not in values:
        values[key] = compute()
    return values[key]  # type: ignore[return-value]


def forget_for_transaction() -> None:
    """Drop this transaction's looked-up values (call after changing a row they came from)."""
    from tts.extensions import db

    db.session().info.pop("tts_tx_cache", None)
