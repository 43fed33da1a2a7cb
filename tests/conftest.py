"""Fixtures every part of the suite shares: the local Amazon Connect on a free
loopback port, stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from connect_local import Config, LocalConnect
from tests.connect_local.configs import config_with


@pytest.fixture
def start_server() -> Iterator[Callable[[Config], LocalConnect]]:
    """Start a local Amazon Connect with a given configuration; all are stopped at teardown."""
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
    """A local Amazon Connect with the default test configuration."""
    return start_server(config_with())
