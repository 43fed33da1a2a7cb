"""How a store's readers wait for the next commit: woken at once by commits made through this store,
polling for commits made elsewhere (another process on the SQLite file, another node on the table)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CommitSignal:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._last_committed = 0
        self._closed = False

    def committed(self, position: int) -> None:
        """The store committed through `position`: wake its waiters."""
        with self._changed:
            self._last_committed = position
            self._changed.notify_all()

    def close(self) -> None:
        """The store closed: wake its waiters, and let none wait again."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_past(self, after: int, timeout: float, *, readable: Callable[[], bool], poll_seconds: float) -> bool:
        """Wait until `readable()` says the event after position `after` can be read; False if `timeout`
        passes first. `readable` is asked at once, after each commit through this store and every
        `poll_seconds` (what another writer commits wakes nothing here)."""
        deadline = time.monotonic() + timeout
        while True:
            if readable():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._changed:
                if self._last_committed <= after and not self._closed:
                    self._changed.wait(min(remaining, poll_seconds))
