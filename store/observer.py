"""What the event store tells whoever watches it (`EventStore.watch`): the running service's metrics."""

from __future__ import annotations

from typing import Protocol


class StoreObserver(Protocol):
    """Called on the appending thread (`appended`) and on the writer's thread (`committed`): each call
    must be quick and must not raise."""

    def appended(self, seconds: float) -> None:
        """An append was committed `seconds` after it was handed to the writer (waiting for its batch,
        the batch's transaction and its fsync)."""

    def committed(self, appends: int, events: int, seconds: float) -> None:
        """A batch of `appends` (with `events` events in all) was committed in one transaction of `seconds`."""
