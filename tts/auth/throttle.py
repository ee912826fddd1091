"""Sign-in throttling: 5 failures for an account or 20 from an address in 15 minutes, then a pause.

Counts live in the `limits` library's storage: in memory by default (per process), or shared in Redis
when RATELIMIT_STORAGE_URI is set (for several web processes). Only failures count, so staff who sign
in correctly are never slowed; a success clears the account's count.
"""
from dataclasses import dataclass
from time import time

from flask import Flask, current_app
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


@dataclass
class Throttle:
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
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    window = app.config["TTS_SIGNIN_WINDOW_MINUTES"]
    app.extensions["tts_throttle"] = Throttle(
        limiter=MovingWindowRateLimiter(storage_from_string(uri)),
        per_account=RateLimitItemPerMinute(app.config["TTS_SIGNIN_MAX_FAILURES_ACCOUNT"], window),
        per_address=RateLimitItemPerMinute(app.config["TTS_SIGNIN_MAX_FAILURES_ADDRESS"], window),
    )


def throttle() -> Throttle:
    return current_app.extensions["tts_throttle"]
