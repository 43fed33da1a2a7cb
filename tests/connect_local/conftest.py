"""Fixtures that start the local Amazon Connect on a free loopback port and
stop it afterwards, plus the clients tests drive it with (boto3,
websocket-client, urllib)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connect_local import LocalConnect
from tests.connect_local.clients import Clients


@pytest.fixture
def clients(server: LocalConnect) -> Iterator[Clients]:
    with Clients(server) as made:
        yield made
