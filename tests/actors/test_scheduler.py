"""actors/scheduler.py: the one heap-and-thread scheduler under actors/later.py and actors/timers.py,
here on an injected clock, so nothing waits for real time to pass."""

from __future__ import annotations

import threading

from actors.scheduler import Scheduler

WAIT = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_calls_run_in_due_order_once_the_clock_reaches_them_and_a_cancelled_one_never() -> None:
    clock = Clock()
    scheduler = Scheduler("test-scheduler", clock).start()
    ran: list[str] = []

    def ran_up_to_now() -> list[str]:
        """What has run once every call due by now has: calls run in due order on one thread, so a
        marker due now runs after them and before any call due later."""
        done = threading.Event()
        scheduler.call_at(clock.now, done.set)
        assert done.wait(WAIT)
        return list(ran)

    try:
        scheduler.call_at(5.0, lambda: ran.append("at 5"))
        scheduler.call_at(3.0, lambda: ran.append("at 3"))
        scheduler.call_at(4.0, lambda: ran.append("cancelled")).cancel()
        scheduler.call_at(3.0, lambda: ran.append("also at 3"))
        clock.now = 2.0
        assert ran_up_to_now() == []
        clock.now = 4.5
        scheduler.poke()
        assert ran_up_to_now() == ["at 3", "also at 3"]
        clock.now = 10.0
        scheduler.poke()
        assert ran_up_to_now() == ["at 3", "also at 3", "at 5"]
        assert scheduler.pending() == 0
    finally:
        scheduler.stop()


def test_a_clock_that_jumps_is_seen_without_a_poke_and_a_failing_call_stops_nothing() -> None:
    """Wall time can jump; the thread's wait counts monotonic time: it looks at the clock again."""
    clock = Clock()
    scheduler = Scheduler("test-scheduler-jump", clock).start()
    done = threading.Event()
    try:
        scheduler.call_at(1000.0, lambda: 1 / 0)
        scheduler.call_at(1000.0, done.set)
        waiting = threading.Event()
        scheduler.call_at(clock.now, waiting.set)
        assert waiting.wait(WAIT)  # the thread has seen both calls and waits for the first
        assert scheduler.pending() == 2
        clock.now = 1000.0  # no poke
        assert done.wait(WAIT)
    finally:
        scheduler.stop()
