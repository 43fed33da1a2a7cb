"""Fixtures that start the local Amazon Connect on a free loopback port and
stop it afterwards, plus the clients tests drive it with (boto3,
websocket-client, urllib)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from connect_local import Config, LocalConnect
from connect_local.config import AgentConfig, RegionConfig, default_instance

from tests.connect_local.clients import Clients

INSTANT_ANA = AgentConfig(name="Ana", join_delay_seconds=0)


def config_with(agents: list[AgentConfig] | None = None, **fields: object) -> Config:
    """One region, one instance whose queue is served by `agents` (default:
    Ana, who joins at once and echoes each message)."""
    instance = default_instance([INSTANT_ANA] if agents is None else agents)
    return Config(regions=[RegionConfig(name="us-east-1", instances=[instance])], **fields)


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
