"""Fixtures that start the local Amazon Connect on a free loopback port and
stop it afterwards, plus the clients tests drive it with (boto3,
websocket-client, urllib)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from connect_local import Config, LocalConnect
from tests.connect_local.clients import Clients
from tests.connect_local.configs import config_with


@pytest.fixture
def start_server() -> Iterator[Callable[[Config], LocalConnect]]:
    """Start a server with a given configuration; all are stopped at teardown."""
    started: list[LocalConnect] = []

    def start(config: Config) -> LocalConnect:
        server = LocalConnect(config).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: Callable[[Config], LocalConnect]) -> LocalConnect:
    return start_server(config_with())


@pytest.fixture
def clients(server: LocalConnect) -> Iterator[Clients]:
    with Clients(server) as made:
        yield made
