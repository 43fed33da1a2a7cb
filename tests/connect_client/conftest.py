"""The local Amazon Connect on a free loopback port, and this region's typed
clients pointed at it. Every ChatSocket a test opens is closed at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from connect_client import ChatSocket, ChatStart, ClientSettings, RegionClients, StartedChat, static_session
from connect_local import LocalConnect
from tests.connect_client.owner import Owner, fast_settings

# One call per operation, so that an injected fault reaches the test instead
# of being retried away by botocore.
ONE_ATTEMPT = ClientSettings(max_attempts=1, connect_timeout=2.0, read_timeout=5.0)


def region_for(server: LocalConnect, settings: ClientSettings = ONE_ATTEMPT) -> RegionClients:
    return RegionClients.create(
        server.ready_info()["region"], endpoint_url=server.endpoint_url, session=static_session(), settings=settings
    )


@pytest.fixture
def region(server: LocalConnect) -> RegionClients:
    return region_for(server)


def chat_start(server: LocalConnect, client_token: str = "transfer-1", **fields: object) -> ChatStart:
    info = server.ready_info()
    values: dict[str, object] = {
        "instance_id": info["instance_id"],
        "contact_flow_id": info["contact_flow_id"],
        "display_name": "Bob",
        "client_token": client_token,
    }
    return ChatStart(**{**values, **fields})  # type: ignore[arg-type]


@pytest.fixture
def open_socket() -> Iterator[Callable[..., tuple[ChatSocket, Owner]]]:
    """Start a ChatSocket for a started chat with fast timings; closed at teardown."""
    sockets: list[ChatSocket] = []

    def open_(region: RegionClients, started: StartedChat, owner: Owner | None = None, **options: object) -> tuple[ChatSocket, Owner]:
        owner = owner or Owner()
        options.setdefault("settings", fast_settings())
        chat_socket = ChatSocket(region.participant, started.participant_token, owner.on_item, owner.on_state, **options)  # type: ignore[arg-type]
        sockets.append(chat_socket.start())
        return chat_socket, owner

    yield open_
    for chat_socket in sockets:
        chat_socket.close()
    for chat_socket in sockets:
        assert chat_socket.wait_stopped(10), "a chat socket did not stop at teardown"
