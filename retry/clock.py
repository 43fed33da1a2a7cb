"""The time a retry is due by, and the wait for it.

A retry waits on a `threading.Condition` (so new work or a stop can cut the
wait short) until a monotonic due time. Both come from a `Clock`, so a test
can hand in a simulated one and run hours of retries in a second.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        """Wait on `condition` (held by the caller) for a notify, or `timeout` seconds of this clock; None: no limit."""
        ...


class SystemClock:
    """Real time: `time.monotonic` and `Condition.wait`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        condition.wait(timeout)


SYSTEM_CLOCK = SystemClock()
