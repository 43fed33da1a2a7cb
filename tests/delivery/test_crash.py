from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from delivery import is_for_the_bot
from store import EventStore
from store.conversations import conversation_stream
from tests.delivery.conversations import append, append_one_by_one, chat, hand_back, started
from tests.delivery.deliver_child import SENDERS
from tests.delivery.receiver import Receiver

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def start_child(store_path: Path) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    children: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.delivery.deliver_child", str(store_path)],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True,
        )
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]


def test_after_sigkill_mid_delivery_nothing_is_missing_and_only_the_in_flight_come_twice(
    store: EventStore, receiver: Receiver, start_child: Callable[[], subprocess.Popen[str]]
) -> None:
    runs = {c: chat(started(c, receiver.url(c)), agent_messages=40) for c in ("k1", "k2", "k3")}
    append_one_by_one(store, {c: run.events for c, run in runs.items()})
    receiver.hold_from(30)
    first = start_child()
    receiver.wait_until(lambda r: len(r.requests) >= 30 + SENDERS - 1)

    first.send_signal(signal.SIGKILL)
    first.wait()
    receiver.release()
    for conversation_id, run in runs.items():
        already = len(run.events)
        append(store, conversation_id, hand_back(run).events[already:])
    start_child()
    expected = {
        c: [f"{c}:{s.seq}" for s in store.read_stream(conversation_stream(c)) if is_for_the_bot(s)] for c in runs
    }
    receiver.wait_until(lambda r: all(expected[c][-1] in ids(r.accepted(c)) for c in runs), timeout=20)

    duplicates = 0
    for conversation_id in runs:
        received = ids(receiver.accepted(conversation_id))
        assert list(dict.fromkeys(received)) == expected[conversation_id]
        duplicates += sum(n - 1 for n in Counter(received).values())
    assert duplicates <= SENDERS


def ids(received: list) -> list[str]:
    return [r.message["Id"] for r in received]
