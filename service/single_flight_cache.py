"""Values kept a few seconds per key, each key fetched by one caller at a time (single flight).

    >>> cache = SingleFlightCache(ttl=5.0, clock=time.time)
    >>> kept = cache.get(key, fetch)      # Kept(value, at): fetch() ran at `at`, at most ttl seconds ago

Callers that miss while a fetch of their key is in flight wait for it and get its value (or its
exception) instead of fetching again, so a burst of callers costs one fetch per key and window. What
`fetch` returns is kept whatever it is; an exception it raises is handed to the callers waiting on it
and is not kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Kept(Generic[V]):
    value: V
    at: float  # when the fetch returned, on the cache's clock


def is_fresh(at: float, now: float, ttl: float) -> bool:
    """A value kept `at` serves for `ttl` seconds; one kept in the future (the clock went back) does not."""
    return 0 <= now - at < ttl


class SingleFlightCache(Generic[K, V]):
    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._clock = clock
        self._kept: dict[K, Kept[V]] = {}
        self._in_flight: dict[K, Future[Kept[V]]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, fetch: Callable[[], V]) -> Kept[V]:
        """The key's value if it is fresh, else the outcome of the fetch in flight, else of a new one."""
        flight: Future[Kept[V]] = Future()
        with self._lock:
            now = self._clock()
            kept = self._kept.get(key)
            if kept is not None and is_fresh(kept.at, now, self.ttl):
                return kept
            in_flight = self._in_flight.setdefault(key, flight)
        if in_flight is not flight:
            return in_flight.result()
        try:
            kept = Kept(fetch(), self._clock())
        except BaseException as error:
            with self._lock:
                del self._in_flight[key]
            flight.set_exception(error)
            raise
        with self._lock:
            del self._in_flight[key]
            # Drop what has gone stale, so that keys no longer asked for (a worker's old queue) do not pile up.
            self._kept = {k: v for k, v in self._kept.items() if is_fresh(v.at, kept.at, self.ttl)}
            self._kept[key] = kept
        flight.set_result(kept)
        return kept
