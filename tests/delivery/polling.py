from __future__ import annotations

import time
from collections.abc import Callable

POLL_SECONDS = 0.005


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        time.sleep(POLL_SECONDS)
