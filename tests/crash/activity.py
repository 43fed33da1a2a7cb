"""A signal that something the service is working on just happened (a bot request went out, a webhook
arrived), so that part of the kills land a few milliseconds later, inside the short windows where
a crash matters most: between Connect taking a message and the service recording that it did, or
between a webhook's answer and the deliverer's checkpoint. Uniform random moments rarely hit them."""

from __future__ import annotations

import threading
import time


class Activity:
    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def happened(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def wait_next(self, timeout: float) -> bool:
        """Whether something happened after this call began, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            seen = self._count
            while self._count == seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True
