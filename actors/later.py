"""One thread that runs callbacks after a delay, for every actor of the process.

A conversation waiting to retry an effect (`retry.Backoff`, up to 30 s) or holding a failover order
(`HOLD_ORDER_SECONDS`) waited on a `threading.Timer`, a thread of its own: in a region's outage every
conversation of the region retries at once, and that was a thread per conversation again, when the
actors themselves no longer hold one (actors/pooled.py). Here a heap of (due, order, call) on the
monotonic clock, and a cancel flag per call. A callback must not block (an actor's `tell` does not):
it runs on this thread, and the next one waits for it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Call:
    """A callback to run later; `cancel()` it from any thread (after it ran, cancelling does nothing)."""

    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Later:
    def __init__(self, name: str = "actors-later") -> None:
        self._heap: list[tuple[float, int, Call]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._name = name
        self._thread: threading.Thread | None = None

    def call_later(self, delay: float, callback: Callable[[], None]) -> Call:
        """Run `callback` on this thread in `delay` seconds, unless cancelled first."""
        call = Call(callback)
        with self._changed:
            if self._thread is None:  # started on first use: a process that never retries has no thread
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay), next(self._order), call))
            self._changed.notify()
        return call

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._changed.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                _, _, call = heapq.heappop(self._heap)
            if call.cancelled:
                continue
            try:
                call.callback()
            except Exception:
                log.exception("a delayed call failed")


LATER = Later()
