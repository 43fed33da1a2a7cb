"""One thread that runs callbacks at their due times, in due order: the process's one "heap on a
thread", under both kinds of wait an actor has.

- `actors/later.py` (`LATER`): an actor's own waits (a retry's backoff, a held failover order), on the
  monotonic clock, each cancellable;
- `actors/timers.py` (`TimerService`): the conversations' auto-disconnect timers, on the clock the
  core's `at` comes from (wall time, or a test's), one per (conversation, timer), telling `TimerDue`.

A heap of (due, order of scheduling, call); the thread waits on a condition for the earliest. The
clock may not be the one that condition's wait counts (wall time can jump, a test's clock moves when
the test says), so the thread looks at it again at least every `LOOK_AGAIN` seconds, and at once on
`poke()` or when a call scheduled is the new earliest. A callback must not block (an actor's `tell` does not): it runs on this thread, and the next
one waits for it; one that raises is logged and the others still run.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

LOOK_AGAIN = 1.0


class Call:
    """A callback to run later; `cancel()` it from any thread (after it ran, cancelling does nothing)."""

    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._name = name
        self._clock = clock
        self._heap: list[tuple[float, int, Call]] = []
        self._order = itertools.count()  # calls due at the same time run in the order scheduled
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> Scheduler:
        """Start the thread (once: starting again does nothing). Calls may be scheduled before."""
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread; the calls not yet run never will."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def call_at(self, due: float, callback: Callable[[], None]) -> Call:
        """Run `callback` on this thread once the clock reaches `due` (at once if it has), unless
        cancelled first."""
        call = Call(callback)
        with self._changed:
            heapq.heappush(self._heap, (due, next(self._order), call))
            if self._heap[0][2] is call:  # the earliest now: the thread waits for a later one
                self._changed.notify()
        return call

    def poke(self) -> None:
        """Look at the clock again (an injected clock moved forward)."""
        with self._changed:
            self._changed.notify()

    def pending(self) -> int:
        """Calls waiting for their time (a cancelled one too, until its time comes)."""
        with self._changed:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and (not self._heap or self._heap[0][0] > self._clock()):
                    wait = None if not self._heap else min(LOOK_AGAIN, max(0.0, self._heap[0][0] - self._clock()))
                    self._changed.wait(wait)
                if self._stopping:
                    return
                _, _, call = heapq.heappop(self._heap)
            if call.cancelled:
                continue
            try:
                call.callback()
            except Exception:
                log.exception("%s: a scheduled call failed", self._name)
