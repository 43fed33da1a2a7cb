"""The timer service: tells conversations `TimerDue` when their auto-disconnect timers fall due.

Timers are `(due_at, conversation_id, timer_id)`; `due_at` is on the clock
given (wall time by default, the clock the core's `at` uses). A timer already
overdue when scheduled (after recovery) fires at once, once. A conversation's
actor cancels each timer its log cancels (`TimerCancelled`: every agent message
sets the timers again, cancelling the last ones), so that the heap does not keep
one entry per exchange until its due time; a timer that fires all the same (its
cancellation raced the firing) is harmless: decide ignores a stale `TimerDue`.
The heap and its thread are actors/scheduler.py's, the one actors/later.py uses
too; what is the timer service's own is the clock, scheduling each timer once,
and what a firing tells.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

from actors.scheduler import Call, Scheduler


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
        self._scheduler = Scheduler("timer-service", clock)
        self._scheduled: dict[tuple[str, str], Call] = {}
        self._lock = threading.Lock()

    def start(self) -> TimerService:
        self._scheduler.start()
        return self

    def stop(self) -> None:
        self._scheduler.stop()

    def schedule(self, conversation_id: str, timer_id: str, due_at: float) -> None:
        """Schedule a timer; scheduling the same one again, before it fires, does nothing."""
        with self._lock:
            if (conversation_id, timer_id) in self._scheduled:
                return
            call = self._scheduler.call_at(due_at, functools.partial(self._due, conversation_id, timer_id, due_at))
            self._scheduled[(conversation_id, timer_id)] = call

    def cancel(self, conversation_id: str, timer_id: str) -> None:
        """Unschedule a timer; one not scheduled, or that has fired, is let be."""
        with self._lock:
            call = self._scheduled.pop((conversation_id, timer_id), None)
        if call is not None:
            call.cancel()

    def poke(self) -> None:
        """Look at the clock again (an injected clock moved forward)."""
        self._scheduler.poke()

    def pending(self) -> int:
        """Timers waiting to fire."""
        return self._scheduler.pending()

    def _due(self, conversation_id: str, timer_id: str, due_at: float) -> None:
        with self._lock:
            self._scheduled.pop((conversation_id, timer_id), None)
        now = self._clock()
        self._fire(conversation_id, timer_id, now)
        self._fired_late(max(0.0, now - due_at))
