"""The process's one thread for the waits an actor sets itself, on the monotonic clock.

A conversation waiting to retry an effect (`retry.Backoff`, up to 30 s) or holding a failover order
(`HOLD_ORDER_SECONDS`) waited on a `threading.Timer`, a thread of its own: in a region's outage every
conversation of the region retries at once, and that was a thread per conversation again, when the
actors themselves no longer hold one (actors/pooled.py). Here each wait is a cancellable call on
`actors/scheduler.py`'s `Scheduler`, the one the auto-disconnect timers use too (actors/timers.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from actors.scheduler import Call, Scheduler


class Later:
    def __init__(self, name: str = "actors-later") -> None:
        self._scheduler = Scheduler(name, clock=time.monotonic)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Call:
        """Run `callback` on this thread in `delay` seconds, unless cancelled first."""
        self._scheduler.start()  # on first use: a process that never retries has no thread
        return self._scheduler.call_at(time.monotonic() + max(0.0, delay), callback)


LATER = Later()

__all__ = ["LATER", "Call", "Later"]
