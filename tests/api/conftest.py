"""The bots' API as `commands/runtime.py` builds it (the pull stream included), served on a free loopback
port over a real store, with clients in its file. Its WorkerService is never started and its regions are
never asked: these tests stop at what the API answers before Amazon Connect would be reached, and the
conversations they read are appended to the store through the pure core (tests/delivery/conversations.py).
End-to-end behaviour with the local Amazon Connect is in tests/service/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace
from starlette.applications import Starlette

from api import ApiServer, create_app
from delivery import delivery_routes
from service import WorkerService
from store import EventStore
from store.clients import ClientRegistry, NewClient
from tests.delivery.conversations import append
from tests.events.scenario import Run, transfer
from tests.service.harness import Api

MAX_BODY_BYTES = 64 * 1024  # room for a Context over Connect's 32,768 bytes


def regions_never_asked(region: str, secret: str | None) -> Any:
    raise AssertionError(f"the API's answers under test must not reach Amazon Connect (asked for {region!r})")


@dataclass
class Served:
    store: EventStore
    clients: ClientRegistry
    app: Starlette
    url: str
    alice: NewClient  # a bot
    bob: NewClient  # another bot
    admin: NewClient

    def api(self, who: NewClient) -> Api:
        return Api(self.url, who.token)

    def conversation_of(self, who: NewClient | None, conversation_id: str) -> None:
        """A conversation `who` has transferred (None: from before clients), its chat not started yet."""
        run = Run(conversation_id)
        run(replace(transfer(0.0), client_id=who.client.id if who else None))
        append(self.store, conversation_id, run.events)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with EventStore.open(tmp_path / "events.db") as store, ClientRegistry(store.path) as clients:
        app = create_app(
            WorkerService(store, regions_never_asked), clients, delivery_routes(store), max_body_bytes=MAX_BODY_BYTES
        )
        server = ApiServer(app).start()
        try:
            yield Served(
                store,
                clients,
                app,
                server.url,
                alice=clients.create("alice"),
                bob=clients.create("bob"),
                admin=clients.create("ops", admin=True),
            )
        finally:
            server.stop()
