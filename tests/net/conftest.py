from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.delivery.receiver import Receiver
from tests.support.ports import closed_port, full_port, silent_port

__all__ = ["closed_port", "full_port", "receiver", "silent_port"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(keep_alive=True).start()
    yield started
    started.stop()
