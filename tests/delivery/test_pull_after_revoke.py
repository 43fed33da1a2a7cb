"""A token revoked while it reads the pull stream gets nothing more: an open event stream ends, and a
long poll that was waiting is answered 401 instead of the events that woke it."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from api import create_app
from delivery import delivery_routes
from net.server_thread import ServerThread
from service import WorkerService
from store import EventStore
from store.clients import Client, ClientRegistry
from store.conversations import conversation_stream
from tests.api.conftest import regions_never_asked
from tests.delivery.conversations import append, chat, hand_back, started
from tests.delivery.test_pull import EventStream, PullApi, bot_ids


class SeenRegistry(ClientRegistry):
    """The clients table, telling when a token was first taken: so the test revokes it only once the
    request it sent is past the door."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.taken = threading.Event()

    def authenticate(self, token: str) -> Client | None:
        client = super().authenticate(token)
        if client is not None:
            self.taken.set()
        return client


@dataclass
class Served:
    api: PullApi
    client_id: str
    clients: SeenRegistry
    path: Path

    def revoke(self) -> None:
        with ClientRegistry(self.path) as elsewhere:  # as `run.py client revoke` does, from another connection
            elsewhere.revoke(self.client_id)


@pytest.fixture
def served(store: EventStore) -> Iterator[Served]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    with SeenRegistry(store.path) as clients:
        made = clients.create("ops", admin=True)
        app = create_app(WorkerService(store, regions_never_asked), clients, delivery_routes(store))
        server = ServerThread(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1),
                              "pull-api", sockets=[listener])
        server.start(timeout=10)
        api = PullApi(*listener.getsockname(), {"Authorization": f"Bearer {made.token}"})
        yield Served(api, made.client.id, clients, store.path)
        server.stop(timeout=10)


def test_an_open_event_stream_ends_at_the_revoke_without_the_messages_after_it(
    store: EventStore, served: Served
) -> None:
    run = chat(started("r1", ""), agent_messages=1)
    append(store, "r1", run.events)
    stream = EventStream(served.api, "/v1/conversations/r1/events")
    try:
        frames = stream.frames()
        assert [next(frames)["id"] for _ in bot_ids(store, "r1")] == bot_ids(store, "r1")

        served.revoke()
        append(store, "r1", run.agent_says("after the revoke", at=50.0))
        already = len(run.events)
        append(store, "r1", hand_back(run).events[already:])

        assert list(frames) == []  # the stream ended: not the new message, nor the hand-back
    finally:
        stream.close()


def test_a_long_poll_waiting_at_the_revoke_is_answered_401(store: EventStore, served: Served) -> None:
    run = chat(started("r2", ""), agent_messages=1)
    append(store, "r2", run.events)
    last = store.stream_version(conversation_stream("r2"))
    connection = http.client.HTTPConnection(served.api.host, served.api.port, timeout=40)
    answered: list[tuple[int, dict]] = []

    def poll() -> None:
        connection.request("GET", f"/v1/conversations/r2/events?after={last}&wait=30",
                           headers=served.api.authorization)
        response = connection.getresponse()
        answered.append((response.status, json.loads(response.read())))

    polling = threading.Thread(target=poll)
    served.clients.taken.clear()
    polling.start()
    try:
        assert served.clients.taken.wait(10), "the poll never reached the API"
        served.revoke()
        append(store, "r2", run.agent_says("after the revoke", at=50.0))  # wakes the poll
        polling.join(timeout=40)
        assert answered and answered[0][0] == 401 and answered[0][1]["Code"] == "unauthorized"
    finally:
        connection.close()
