"""The timer service: one thread that tells conversations `TimerDue` when their timers fall due.

Timers are `(due_at, conversation_id, timer_id)`; `due_at` is on the clock
given (wall time by default, the clock the core's `at` uses). A timer already
overdue when scheduled (after recovery) fires at once, once. Firing a timer
that the conversation has since cancelled is harmless: decide ignores a
stale `TimerDue`.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable


class TimerService:
    def __init__(
        self,
        fire: Callable[[str, str, float], None],
        clock: Callable[[], float] = time.time,
        *,
        fired_late: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        """`fire(conversation_id, timer_id, now)` is called on the service's thread; then `fired_late(seconds)`
        with how long after its due time (the service's metrics count it)."""
        self._fire = fire
        self._clock = clock
        self._fired_late = fired_late
        self._heap: list[tuple[float, str, str]] = []
        self._scheduled: set[tuple[str, str]] = set()
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="timer-service", daemon=True)

    def start(self) -> TimerService:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._thread.join(timeout=5)

    def schedule(self, conversation_id: str, timer_id: str, due_at: float) -> None:
        """Schedule a timer; scheduling the same one again does nothing."""
        with self._changed:
            if (conversation_id, timer_id) in self._scheduled:
                return
            self._scheduled.add((conversation_id, timer_id))
            heapq.heappush(self._heap, (due_at, conversation_id, timer_id))
            self._changed.notify()

    def poke(self) -> None:
        """Look at the clock again (an injected clock moved forward)."""
        with self._changed:
            self._changed.notify()

    def pending(self) -> int:
        """Timers waiting to fire (a cancelled one too, until its due time: see above)."""
        with self._changed:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and (not self._heap or self._heap[0][0] > self._clock()):
                    wait = None if not self._heap else max(0.0, self._heap[0][0] - self._clock())
                    self._changed.wait(wait if wait is None else min(wait, 1.0))
                if self._stopping:
                    return
                due_at, conversation_id, timer_id = heapq.heappop(self._heap)
                self._scheduled.discard((conversation_id, timer_id))
            now = self._clock()
            self._fire(conversation_id, timer_id, now)
            self._fired_late(max(0.0, now - due_at))
