"""actors/scheduler.py: the one heap-and-thread scheduler under actors/later.py and actors/timers.py,
here on an injected clock, so nothing waits for real time to pass."""

from __future__ import annotations

import functools
import threading
import weakref

from actors.scheduler import Scheduler
from retry.due_heap import COMPACT_AT
from tests.support.clocks import ManualClock

WAIT = 10.0


def test_calls_run_in_due_order_once_the_clock_reaches_them_and_a_cancelled_one_never() -> None:
    clock = ManualClock(0.0)
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
    clock = ManualClock(0.0)
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


def test_calls_set_again_and_again_keep_the_heap_bounded_and_the_callbacks_let_go() -> None:
    """A conversation's timers are set again at every agent message, the last ones cancelled: 10,000
    such exchanges leave one call to run, a heap about twice that at most, and no callback held. The
    thread is not started: nothing here is due, and the heap is looked at directly."""
    scheduler = Scheduler("test-scheduler-rearm", ManualClock(0.0))
    held: list[weakref.ref[Exchange]] = []
    call = None
    for n in range(10_000):
        exchange = Exchange(n)
        held.append(weakref.ref(exchange))
        if call is not None:
            call.cancel()
        call = scheduler.call_at(1000.0 + n, exchange.run)
    assert scheduler.pending() == 1
    assert scheduler._heap.size() <= 2 * COMPACT_AT  # the heap itself, cancelled entries and all
    assert sum(1 for ref in held if ref() is not None) == 1  # only the live call's callback is held


def test_a_rebuilt_heap_runs_what_is_left_in_due_order_and_never_a_cancelled_call() -> None:
    clock = ManualClock(0.0)
    scheduler = Scheduler("test-scheduler-rebuild", clock)
    ran: list[int] = []
    calls = {n: scheduler.call_at(float(n % 7), functools.partial(ran.append, n)) for n in range(10 * COMPACT_AT)}
    for n, call in calls.items():
        if n % 3:
            call.cancel()  # two in three: the heap is rebuilt on the way
    assert scheduler._heap.size() < len(calls) * 2 / 3
    scheduler.start()
    try:
        clock.now = 10.0
        done = threading.Event()
        scheduler.call_at(clock.now, done.set)
        assert done.wait(WAIT)
    finally:
        scheduler.stop()
    kept = [n for n in calls if n % 3 == 0]
    assert ran == sorted(kept, key=lambda n: (n % 7, n))  # by due time, then in the order scheduled


class Exchange:
    """What an auto-disconnect timer's callback holds, one per exchange."""

    def __init__(self, n: int) -> None:
        self.n = n

    def run(self) -> None:
        raise AssertionError(f"exchange {self.n}: nothing here is due")
