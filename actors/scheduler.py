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

A cancelled call cannot leave the heap at once (it may be anywhere in it), so cancelling lets go of
its callback, and of whatever the callback holds, at once; and once more than half of a heap of at
least `COMPACT_AT` entries are cancelled, the heap is rebuilt without them (asyncio's event loop does
the same). A conversation's auto-disconnect timers are set again on every agent message, each time
cancelling the last ones: kept until their due time (minutes), they would grow the heap with every
exchange. Rebuilt, the heap holds at most about twice the calls still to run.
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
COMPACT_AT = 64  # below this, cancelled entries wait for their time: a rebuild would cost more than it saves


class Call:
    """A callback to run later; `cancel()` it from any thread (after it ran, cancelling does nothing).
    Once cancelled or run it holds no callback."""

    __slots__ = ("callback", "_scheduler")

    def __init__(self, callback: Callable[[], None], scheduler: Scheduler) -> None:
        self.callback: Callable[[], None] | None = callback  # None once cancelled or taken to run
        self._scheduler = scheduler

    def cancel(self) -> None:
        self._scheduler._cancel(self)


class Scheduler:
    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._name = name
        self._clock = clock
        self._heap: list[tuple[float, int, Call]] = []
        self._cancelled = 0  # entries of the heap whose call is cancelled (its callback None)
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
        call = Call(callback, self)
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
        """Calls waiting for their time, cancelled ones not counted."""
        with self._changed:
            return len(self._heap) - self._cancelled

    def _cancel(self, call: Call) -> None:
        with self._changed:
            if call.callback is None:  # already cancelled, or run
                return
            call.callback = None
            self._cancelled += 1
            if len(self._heap) >= COMPACT_AT and 2 * self._cancelled > len(self._heap):
                # Keys are (due, order): the rebuilt heap runs the calls left in the same order.
                self._heap = [entry for entry in self._heap if entry[2].callback is not None]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and (not self._heap or self._heap[0][0] > self._clock()):
                    wait = None if not self._heap else min(LOOK_AGAIN, max(0.0, self._heap[0][0] - self._clock()))
                    self._changed.wait(wait)
                if self._stopping:
                    return
                _, _, call = heapq.heappop(self._heap)
                callback, call.callback = call.callback, None
                if callback is None:
                    self._cancelled -= 1
                    continue
            try:
                callback()
            except Exception:
                log.exception("%s: a scheduled call failed", self._name)
