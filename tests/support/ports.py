"""Loopback ports that fail in known ways, as fixtures: import them into a conftest or a test module."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(8)
        yield listening.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: a connection is refused."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return unused.getsockname()[1]


@pytest.fixture
def full_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose accept queue is full: the kernel drops a new connection's SYN, so
    connecting times out."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(0)
        port = listening.getsockname()[1]
        waiting = [socket.socket() for _ in range(3)]
        for pending in waiting:
            pending.setblocking(False)
            pending.connect_ex(("127.0.0.1", port))
        yield port
        for pending in waiting:
            pending.close()
