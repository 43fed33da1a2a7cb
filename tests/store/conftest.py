from collections.abc import Iterator
from pathlib import Path

import pytest

from store import EventStore


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[EventStore]:
    opened = EventStore.open(store_path)
    yield opened
    opened.close()
