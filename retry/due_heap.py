"""The one heap of cancellable entries due at a time, under both timer loops of the process:
`actors/scheduler.py` (the actors' waits and the auto-disconnect timers) and
`connect_client/socket_hub.py` (the chat sockets' heartbeats, renewals and retry waits).

A cancelled entry cannot leave a heap at once (it may be anywhere in it), so it stays until it comes
to the top, where it is dropped, or until more than half of a heap of at least `COMPACT_AT` entries
are cancelled: then the heap is rebuilt without them (asyncio's event loop does the same). Without
that, a loop that cancels and sets its timers again (an auto-disconnect rule at every agent message,
a socket's renewal an hour ahead for every chat that ends) grows its heap until the cancelled
entries' due times come. Rebuilt, a heap holds at most about twice the entries still to run.

Not thread-safe: its owner calls it under its own lock, or from its one thread.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Generic, TypeVar

E = TypeVar("E")

COMPACT_AT = 64  # below this, cancelled entries wait for their time: a rebuild would cost more than it saves


class DueHeap(Generic[E]):
    """Entries in due order (entries due at the same time in the order pushed); `is_cancelled` says
    whether an entry has been cancelled since it was pushed, and the owner calls `cancelled()` once
    for each entry of the heap it cancels."""

    __slots__ = ("_heap", "_cancelled", "_order", "_is_cancelled")

    def __init__(self, is_cancelled: Callable[[E], bool]) -> None:
        self._heap: list[tuple[float, int, E]] = []
        self._cancelled = 0  # entries of the heap that `is_cancelled`
        self._order = itertools.count()
        self._is_cancelled = is_cancelled

    def __len__(self) -> int:
        """Entries waiting for their time, cancelled ones not counted."""
        return len(self._heap) - self._cancelled

    def push(self, due: float, entry: E) -> bool:
        """Add `entry`, due at `due`; whether it is now the earliest (a loop waiting for a later one
        must look again)."""
        heapq.heappush(self._heap, (due, next(self._order), entry))
        return self._heap[0][2] is entry

    def earliest(self) -> float | None:
        """The due time of the earliest entry not cancelled (None: there is none); the cancelled
        entries before it leave the heap."""
        heap = self._heap
        while heap and self._is_cancelled(heap[0][2]):
            heapq.heappop(heap)
            self._cancelled -= 1
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> E | None:
        """The earliest entry not cancelled, taken out of the heap, if it is due by `now`."""
        due = self.earliest()
        if due is None or due > now:
            return None
        return heapq.heappop(self._heap)[2]

    def cancelled(self) -> None:
        """One entry still in the heap has just been cancelled: counted, and the heap rebuilt
        without its cancelled entries once they are more than half of it."""
        self._cancelled += 1
        if len(self._heap) >= COMPACT_AT and 2 * self._cancelled > len(self._heap):
            # Keys are (due, order): the rebuilt heap gives the entries left in the same order.
            self._heap = [item for item in self._heap if not self._is_cancelled(item[2])]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def size(self) -> int:
        """Entries in the heap, cancelled ones counted: what it holds in memory."""
        return len(self._heap)
