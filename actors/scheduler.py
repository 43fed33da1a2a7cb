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
its callback, and of whatever the callback holds, at once; the heap (`retry/due_heap.py`, the socket
hub's too) is rebuilt without its cancelled entries once they are more than half of it. A
conversation's auto-disconnect timers are set again on every agent message, each time cancelling the
last ones: kept until their due time (minutes), they would grow the heap with every exchange.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from retry.due_heap import DueHeap

log = logging.getLogger(__name__)

LOOK_AGAIN = 1.0


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
        self._heap: DueHeap[Call] = DueHeap(_cancelled_or_run)  # calls due at the same time run in the order scheduled
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
            if self._heap.push(due, call):  # the earliest now: the thread waits for a later one
                self._changed.notify()
        return call

    def poke(self) -> None:
        """Look at the clock again (an injected clock moved forward)."""
        with self._changed:
            self._changed.notify()

    def pending(self) -> int:
        """Calls waiting for their time, cancelled ones not counted."""
        with self._changed:
            return len(self._heap)

    def _cancel(self, call: Call) -> None:
        with self._changed:
            if call.callback is None:  # already cancelled, or run
                return
            call.callback = None
            self._heap.cancelled()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and (call := self._heap.pop_due(self._clock())) is None:
                    due = self._heap.earliest()
                    self._changed.wait(None if due is None else min(LOOK_AGAIN, max(0.0, due - self._clock())))
                if self._stopping:
                    return
                callback, call.callback = call.callback, None
            try:
                callback()  # a call in the heap not cancelled still has its callback
            except Exception:
                log.exception("%s: a scheduled call failed", self._name)


def _cancelled_or_run(call: Call) -> bool:
    return call.callback is None
