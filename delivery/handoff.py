"""The store's committed batches, handed to the webhook deliverer's tail in memory.

The store's committer (its writer thread, or the caller that committed its own append:
store/group_commit.py) calls the `Handoff` right after each COMMIT (`EventStore.follow`); the tail takes
the batches on its own thread. The committer never waits here beyond a few instructions under a lock of
the hand-off's own, and never for the tail: past `limit` events waiting, a batch is dropped, and the
tail reads it from the log instead (it sees the gap in positions). So the hand-off is a cache of the
log's newest pages, never the only copy: whatever it misses (dropped, committed before the deliverer
started, or by another process) the tail reads from the store.
"""

from __future__ import annotations

import threading
from collections import deque

from store.committed import CommittedBatch

DEFAULT_LIMIT_EVENTS = 50_000


class Handoff:
    """Committed batches waiting for the tail, at most `limit` events in all."""

    def __init__(self, limit: int = DEFAULT_LIMIT_EVENTS) -> None:
        self._limit = limit
        self._ready = threading.Condition(threading.Lock())
        self._batches: deque[CommittedBatch] = deque()
        self._waiting = 0  # events in `_batches`
        self.dropped = 0  # batches left to the log: the tail had fallen this far behind

    def __call__(self, batch: CommittedBatch) -> None:
        """On the store's committing thread: queue the batch, or drop it if the tail is too far behind."""
        with self._ready:
            if self._waiting + len(batch) > self._limit:
                self.dropped += 1
                return
            self._batches.append(batch)
            self._waiting += len(batch)
            self._ready.notify()

    def take(self, timeout: float) -> list[CommittedBatch]:
        """Every batch waiting, oldest first; waits up to `timeout` for one ([] if none came)."""
        with self._ready:
            if not self._batches:
                self._ready.wait(timeout)
            batches = list(self._batches)
            self._batches.clear()
            self._waiting = 0
        return batches

    def wake(self) -> None:
        """Let a waiting `take` return at once (the deliverer is stopping)."""
        with self._ready:
            self._ready.notify_all()
