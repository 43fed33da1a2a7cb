"""Faults injected on demand: region outages, throttling bursts, added
latency and server errors on a share of calls.

`Faults` only remembers what was asked for; the REST and WebSocket layers ask
it before each call. Socket drops and early connection expiry act at once
and live on the server handle. Failures on a share of calls draw from a
`random.Random(seed)`, so one seed gives the same pattern of failures.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class _ThrottleBurst:
    remaining: int
    operation: str | None
    region: str | None


@dataclass(frozen=True)
class Refusal:
    """An error answer to give instead of doing the call: its exception name, status and message."""

    code: str
    status: int
    message: str


@dataclass
class _Refusals:
    remaining: int
    operation: str
    refusal: Refusal


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down: set[str] = set()
        self._bursts: list[_ThrottleBurst] = []
        self._latency: dict[str | None, float] = {}
        self._held = 0  # calls waiting out their latency now
        self._failure_share: dict[str | None, float] = {}
        self._refusals: list[_Refusals] = []
        self._random = random.Random(0)

    def set_outage(self, region: str, down: bool = True) -> None:
        """While a region is down its calls answer 503 and its sockets are refused."""
        with self._lock:
            (self._down.add if down else self._down.discard)(region)

    def throttle_next(self, count: int, operation: str | None = None, region: str | None = None) -> None:
        """The next `count` calls (of `operation`, in `region`; None for any) get 429."""
        with self._lock:
            self._bursts.append(_ThrottleBurst(count, operation, region))

    def refuse_next(self, count: int, operation: str, refusal: Refusal) -> None:
        """The next `count` calls of `operation` are refused with `refusal` (a 4xx Connect would give
        for good, say a ValidationException), so a client's handling of a refusal can be tested."""
        with self._lock:
            self._refusals.append(_Refusals(count, operation, refusal))

    def take_refusal(self, operation: str) -> Refusal | None:
        with self._lock:
            for refusals in self._refusals:
                if refusals.operation == operation:
                    refusals.remaining -= 1
                    if refusals.remaining == 0:
                        self._refusals.remove(refusals)
                    return refusals.refusal
            return None

    def set_latency(self, seconds: float, region: str | None = None) -> None:
        with self._lock:
            self._latency[region] = seconds

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Around a call's wait for its latency, counted by `held`."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1

    def held(self) -> int:
        """The calls waiting out their latency now."""
        with self._lock:
            return self._held

    def fail_share(self, share: float, seed: int = 0, region: str | None = None) -> None:
        """Answer a share (0..1) of calls with a 500, drawn from `seed`."""
        if not 0 <= share <= 1:
            raise ValueError("share must be between 0 and 1")
        with self._lock:
            self._failure_share[region] = share
            self._random = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self._down.clear()
            self._bursts.clear()
            self._latency.clear()
            self._failure_share.clear()
            self._refusals.clear()

    def region_down(self, region: str | None) -> bool:
        with self._lock:
            return region in self._down

    def latency(self, region: str | None) -> float:
        with self._lock:
            return self._latency.get(region, self._latency.get(None, 0.0))

    def take_throttle(self, operation: str, region: str | None) -> bool:
        with self._lock:
            for burst in self._bursts:
                if burst.operation in (None, operation) and burst.region in (None, region):
                    burst.remaining -= 1
                    if burst.remaining == 0:
                        self._bursts.remove(burst)
                    return True
            return False

    def take_failure(self, region: str | None) -> bool:
        with self._lock:
            share = self._failure_share.get(region, self._failure_share.get(None, 0.0))
            return share > 0 and self._random.random() < share
