"""Sign-in throttling: 5 failures for an account or 20 from an address in 15 minutes, then a pause.

The counts live in the database by default (table signin_failures, keys stored hashed), so every web process
on every server shares them with no set-up: with gunicorn's several processes, an account locks after 5
wrong passwords, not 5 per process. RATELIMIT_STORAGE_URI (e.g. redis://...) keeps them in the `limits`
library's storage instead. Only failures count, so staff who sign in correctly are never slowed; a success
clears the account's count. The database throttle writes in the caller's transaction: callers commit.
"""
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from time import time

from flask import Flask, current_app
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, select

from tts.auth.models import SigninFailure
from tts.clock import utcnow
from tts.extensions import db


@dataclass
class DatabaseThrottle:
    max_account: int
    max_address: int
    window: timedelta

    @staticmethod
    def _key(value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()

    def _limits(self, account: str, address: str):
        return [(scope, self._key(key), limit) for scope, key, limit in
                (("account", account, self.max_account), ("address", address, self.max_address)) if key]

    def retry_after(self, account: str, address: str) -> int | None:
        """Seconds to wait when either limit is used up, else None. A moving window: the wait ends when the
        failure that filled the limit is older than the window."""
        now = utcnow()
        waits = []
        for scope, key, limit in self._limits(account, address):
            recent = (select(SigninFailure.failed_at)
                      .where(SigninFailure.scope == scope, SigninFailure.key_hash == key,
                             SigninFailure.failed_at > now - self.window))
            # The limit-th newest failure: while it is inside the window, the limit is used up.
            filling = db.session.scalar(recent.order_by(SigninFailure.failed_at.desc()).offset(limit - 1).limit(1))
            if filling is not None:
                waits.append(max(1, int((filling + self.window - now).total_seconds())))
        return max(waits) if waits else None

    def failed(self, account: str, address: str) -> None:
        now = utcnow()
        for scope, key, _ in self._limits(account, address):
            db.session.add(SigninFailure(scope=scope, key_hash=key, failed_at=now))
            # Failures older than the window count for nothing: this key's are cleared as it goes.
            db.session.execute(delete(SigninFailure).where(
                SigninFailure.scope == scope, SigninFailure.key_hash == key,
                SigninFailure.failed_at < now - self.window))

    def succeeded(self, account: str) -> None:
        if account:
            db.session.execute(delete(SigninFailure).where(SigninFailure.scope == "account",
                                                           SigninFailure.key_hash == self._key(account)))

    def count(self, account: str) -> int:
        return db.session.scalar(select(func.count()).select_from(SigninFailure).where(
            SigninFailure.scope == "account", SigninFailure.key_hash == self._key(account),
            SigninFailure.failed_at > utcnow() - self.window)) or 0

    def reset(self) -> None:
        """Forget every failure (tests; the caller commits)."""
        db.session.execute(delete(SigninFailure))


@dataclass
class Throttle:
    """The same rules in the `limits` library's storage (Redis, when RATELIMIT_STORAGE_URI names it)."""

    limiter: MovingWindowRateLimiter
    per_account: RateLimitItemPerMinute
    per_address: RateLimitItemPerMinute

    def retry_after(self, account: str, address: str) -> int | None:
        """Seconds to wait when either limit is used up, else None."""
        waits = []
        for item, key in ((self.per_account, ("account", account)), (self.per_address, ("address", address))):
            if not key[1]:
                continue
            if not self.limiter.test(item, *key):
                reset_at, _ = self.limiter.get_window_stats(item, *key)
                waits.append(max(1, int(reset_at - time())))
        return max(waits) if waits else None

    def failed(self, account: str, address: str) -> None:
        if account:
            self.limiter.hit(self.per_account, "account", account)
        if address:
            self.limiter.hit(self.per_address, "address", address)

    def succeeded(self, account: str) -> None:
        self.limiter.clear(self.per_account, "account", account)

    def reset(self) -> None:
        self.limiter.storage.reset()


def init_app(app: Flask) -> None:
    uri = app.config.get("RATELIMIT_STORAGE_URI")
    window = app.config["TTS_SIGNIN_WINDOW_MINUTES"]
    if not uri:
        app.extensions["tts_throttle"] = DatabaseThrottle(
            max_account=app.config["TTS_SIGNIN_MAX_FAILURES_ACCOUNT"],
            max_address=app.config["TTS_SIGNIN_MAX_FAILURES_ADDRESS"], window=timedelta(minutes=window))
        return
    app.extensions["tts_throttle"] = Throttle(
        limiter=MovingWindowRateLimiter(storage_from_string(uri)),
        per_account=RateLimitItemPerMinute(app.config["TTS_SIGNIN_MAX_FAILURES_ACCOUNT"], window),
        per_address=RateLimitItemPerMinute(app.config["TTS_SIGNIN_MAX_FAILURES_ADDRESS"], window),
    )


def throttle() -> DatabaseThrottle | Throttle:
    return current_app.extensions["tts_throttle"]
