from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from delivery import WebhookDeliverer
from store import EventStore
from tests.delivery.receiver import Receiver


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[EventStore]:
    with EventStore.open(store_path) as opened:
        yield opened


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def kept_alive_receiver() -> Iterator[Receiver]:
    started = Receiver(keep_alive=True).start()
    yield started
    started.stop()


@pytest.fixture
def deliverers() -> Iterator[list[WebhookDeliverer]]:
    """The deliverers a test starts (deliverers.start), stopped after it."""
    started_ones: list[WebhookDeliverer] = []
    yield started_ones
    for deliverer in started_ones:
        deliverer.stop()
