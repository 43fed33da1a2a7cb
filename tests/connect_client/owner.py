"""A stand-in for the conversation actor that will own a ChatSocket: it
records what the callbacks hand over, deduplicates items by Id as the
owner must, and lets a test wait for a condition with a deadline."""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connect_client import Backoff, ChatItem, ItemKind, SocketConnected, SocketSettings, SocketState

WAIT_SECONDS = 10.0
EVENT = "application/vnd.amazonaws.connect.event."


def fast_settings(**changes: object) -> SocketSettings:
    """Socket timings short enough that a test waits a fraction of a second, seeded."""
    rng = random.Random(1)
    values: dict[str, object] = {
        "heartbeat": 0.2,
        "subscribe_retry": 0.3,
        "reconnect_backoff": Backoff(first=0.02, cap=0.2, rng=rng),
        "connection_backoff": Backoff(first=0.02, cap=0.2, rng=rng),
    }
    values.update(changes)
    return SocketSettings(**values)  # type: ignore[arg-type]


@dataclass
class Owner:
    items: list[ChatItem] = field(default_factory=list)
    states: queue.Queue[SocketState] = field(default_factory=queue.Queue)
    seen_states: list[SocketState] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def on_item(self, item: ChatItem) -> None:
        with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    def on_state(self, state: SocketState) -> None:
        self.seen_states.append(state)
        self.states.put(state)

    def unique_items(self) -> list[ChatItem]:
        """What the owner keeps: each Id once, in the order first seen."""
        seen: set[str] = set()
        unique = []
        for item in list(self.items):
            if item.id not in seen:
                seen.add(item.id)
                unique.append(item)
        return unique

    def wait_item(self, matches: Callable[[ChatItem], bool], seconds: float = WAIT_SECONDS) -> ChatItem:
        deadline = time.monotonic() + seconds
        with self._changed:
            while True:
                found = next((item for item in self.items if matches(item)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching item; got {[(i.kind.value, i.content) for i in self.items]}")
                self._changed.wait(left)

    def wait_state(self, matches: Callable[[SocketState], bool], seconds: float = WAIT_SECONDS) -> SocketState:
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching state; got {self.seen_states}")
            try:
                state = self.states.get(timeout=left)
            except queue.Empty:
                continue
            if matches(state):
                return state

    def connection_token(self) -> str:
        connected = [s for s in self.seen_states if isinstance(s, SocketConnected)]
        assert connected, "the socket never connected"
        return connected[-1].connection.connection_token


def message(text: str, role: str | None = None) -> Callable[[ChatItem], bool]:
    return lambda item: item.kind is ItemKind.MESSAGE and item.content == text and role in (None, item.participant_role)


def kind(wanted: ItemKind) -> Callable[[ChatItem], bool]:
    return lambda item: item.kind is wanted
