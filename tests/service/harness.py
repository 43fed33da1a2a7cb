"""Driving the worker service the way a bot does: HTTP to its API, and the event log to check."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from events import decode
from events.conversation_events import ConversationEvent
from store import EventStore
from store.conversations import conversation_stream

T = TypeVar("T")
DEADLINE = 15.0


class Api:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, token: str | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token if token is None else token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def transfer(self, conversation_id: str, worker_id: str, **fields: Any) -> tuple[int, Any]:
        body = {"ConversationId": conversation_id, "WorkerId": worker_id, "BotName": "Botty", "DeliverTo": None, **fields}
        return self.call("POST", "/v1/conversations", body)

    def say(self, conversation_id: str, message_id: str, text: str) -> tuple[int, Any]:
        return self.call("POST", f"/v1/conversations/{conversation_id}/messages", {"MessageId": message_id, "Text": text})


def wait_for(condition: Callable[[], T | None], what: str, timeout: float = DEADLINE) -> T:
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def events_of(store: EventStore, conversation_id: str) -> list[ConversationEvent]:
    return [decode(stored.data) for stored in store.read_stream(conversation_stream(conversation_id))]


def of_type(events: list[ConversationEvent], name: str) -> list[Any]:
    return [event for event in events if type(event).__name__ == name]
