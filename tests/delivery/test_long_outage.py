"""A webhook down for hours, on a simulated clock: its messages wait, are retried, and arrive once it is back."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from delivery import WebhookDeliverer, is_for_the_bot
from retry import Backoff
from store import EventStore
from store.conversations import conversation_stream
from tests.delivery.conversations import append, whole
from tests.delivery.deliverers import SECRET
from tests.delivery.receiver import Receiver

HOUR = 3600.0
OUTAGE = 12 * HOUR  # at the default backoff's 30 s average wait, some 1,400 retries: past where 2 ** attempt overflowed


class SimulatedClock:
    """Monotonic time that stands still until someone waits with a timeout, and then jumps to the wait's end."""

    def __init__(self) -> None:
        self._now = 0.0

    def monotonic(self) -> float:
        return self._now

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        if timeout is None:
            condition.wait()
            return
        self._now += max(timeout, 0.0)
        condition.wait(0)  # let the other threads in, as a real wait would


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def deliverer(store: EventStore, clock: SimulatedClock) -> Iterator[WebhookDeliverer]:
    started = WebhookDeliverer(
        store, signing_secret=lambda client_id: SECRET, backoff=Backoff(first=0.5, cap=60.0), retry_clock=clock,
        senders=1,
    )
    started.start()
    yield started
    started.stop()


def test_a_webhook_down_for_twelve_simulated_hours_gets_every_message_once_it_is_back(
    store: EventStore, receiver: Receiver, clock: SimulatedClock, deliverer: WebhookDeliverer
) -> None:
    receiver.fail("outage", times=10**9, status=503)
    append(store, "outage", whole("outage", receiver.url("outage")))

    receiver.wait_until(lambda r: clock.monotonic() >= OUTAGE, timeout=60)
    receiver.heal("outage")
    told = [f"outage:{s.seq}" for s in store.read_stream(conversation_stream("outage")) if is_for_the_bot(s)]
    receiver.wait_until(lambda r: len(r.accepted("outage")) == len(told))

    assert [r.message["Id"] for r in receiver.accepted("outage")] == told
    tries_of_the_first = [r for r in receiver.attempts("outage") if r.message["Id"] == told[0]]
    assert len(tries_of_the_first) > 1_025  # the one sender lived through every one of them
    assert deliverer.stats().retries == len(tries_of_the_first) - 1
