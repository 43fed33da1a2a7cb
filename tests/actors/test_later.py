"""actors/later.py: delayed calls on one shared thread, in due order, cancellable."""

from __future__ import annotations

import threading

from actors.later import Later

WAIT = 10.0


def test_calls_run_in_due_order_on_one_thread_and_a_cancelled_one_does_not() -> None:
    later = Later(name="test-later")
    ran: list[tuple[str, str]] = []
    done = threading.Event()

    def record(name: str) -> None:
        ran.append((name, threading.current_thread().name))

    later.call_later(0.03, lambda: (record("third"), done.set()))
    later.call_later(0.02, lambda: record("second"))
    cancelled = later.call_later(0.01, lambda: record("cancelled"))
    later.call_later(0.0, lambda: record("first"))
    cancelled.cancel()
    assert done.wait(WAIT)
    assert [name for name, _ in ran] == ["first", "second", "third"]
    assert {thread for _, thread in ran} == {"test-later"}


def test_a_failing_call_does_not_stop_the_others() -> None:
    later = Later(name="test-later-failing")
    done = threading.Event()
    later.call_later(0.0, lambda: 1 / 0)
    later.call_later(0.01, done.set)
    assert done.wait(WAIT)
