"""Waiting for new events, as `events tail --follow` does."""

import threading
from collections.abc import Callable

from store import NewEvent
from store.event_log import EventLog
from tests.store.conftest import both_backends

TICK = [NewEvent("Tick", b"{}")]


def wait_in_thread(store: EventLog, after: int, timeout: float) -> tuple[threading.Thread, list[bool]]:
    answer: list[bool] = []
    waiting = threading.Thread(target=lambda: answer.append(store.wait_for_position(after, timeout)))
    waiting.start()
    return waiting, answer


@both_backends
def test_a_waiter_is_woken_by_an_append_in_the_same_process(store: EventLog) -> None:
    store.append("s", TICK, 0)
    waiting, answer = wait_in_thread(store, after=1, timeout=30)

    store.append("s", TICK, 1)
    waiting.join()

    assert answer == [True]
    assert [e.seq for e in store.read_all(after_position=1)] == [2]


@both_backends
def test_a_waiter_notices_an_append_made_through_another_store(open_store: Callable[[], EventLog]) -> None:
    with open_store() as tailing, open_store() as writing:
        waiting, answer = wait_in_thread(tailing, after=0, timeout=30)
        writing.append("s", TICK, 0)
        waiting.join()

        assert answer == [True]
        assert tailing.last_position() == 1


@both_backends
def test_waiting_returns_at_once_when_the_position_is_already_passed(store: EventLog) -> None:
    store.append("s", TICK + TICK, 0)

    assert store.wait_for_position(1, timeout=0)


@both_backends
def test_waiting_gives_up_after_the_timeout(store: EventLog) -> None:
    store.append("s", TICK, 0)

    assert store.wait_for_position(1, timeout=0.05) is False
