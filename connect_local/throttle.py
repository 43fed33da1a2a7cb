"""Rate limits per region and operation, as token buckets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from connect_local.config import Config, RateLimit


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; a call takes one."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float]) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._updated = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.limit.burst, self._tokens + (now - self._updated) * self.limit.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class RateLimiter:
    """One bucket per (region, operation), sized by the configuration."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._overrides: dict[str, RateLimit] = {}

    def allow(self, region: str, operation: str) -> bool:
        with self._lock:
            bucket = self._buckets.get((region, operation))
            if bucket is None:
                bucket = self._buckets[(region, operation)] = TokenBucket(self._limit(operation), self._clock)
            return bucket.take()

    def set_limit(self, operation: str, limit: RateLimit) -> None:
        """Change an operation's limit at run time; its buckets start full."""
        with self._lock:
            self._overrides[operation] = limit
            for key in [key for key in self._buckets if key[1] == operation]:
                del self._buckets[key]

    def _limit(self, operation: str) -> RateLimit:
        return self._overrides.get(operation) or self._config.rate_limits.get(operation) or self._config.default_rate_limit
