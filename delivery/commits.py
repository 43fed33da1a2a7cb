"""Async waiting for the event log to grow, with one thread per store however many waiters."""

from __future__ import annotations

import asyncio
import threading

from store.errors import EventStoreClosed
from store.event_store import EventStore

WATCH_SECONDS = 0.5


class Commits:
    """Wakes every awaiting request when a commit passes its position.

    Long polls and event streams could each wait in a worker thread, but a
    few dozen of them would exhaust the server's thread pool; here one thread
    waits on the store and resolves futures on their event loops.

        position = store.last_position()
        ...  # read, find nothing new
        await commits.after(position, timeout=20)
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._waiters: dict[asyncio.Future[None], int] = {}
        self._watching = False

    async def after(self, position: int, timeout: float) -> bool:
        """True once an event after `position` is committed; False if `timeout` passes first."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiters[future] = position
            if not self._watching:
                self._watching = True
                threading.Thread(target=self._watch, name="delivery-commits", daemon=True).start()
        try:
            if self._store.last_position() > position:
                return True
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.pop(future, None)

    def _watch(self) -> None:
        try:
            while True:
                head = self._store.last_position()
                with self._lock:
                    if not self._waiters:
                        self._watching = False
                        return
                    woken = [future for future, position in self._waiters.items() if head > position]
                    for future in woken:
                        del self._waiters[future]
                for future in woken:
                    future.get_loop().call_soon_threadsafe(_resolve, future)
                self._store.wait_for_position(head, timeout=WATCH_SECONDS)
        except EventStoreClosed:
            with self._lock:
                self._watching = False
                abandoned, self._waiters = list(self._waiters), {}
            for future in abandoned:
                future.get_loop().call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
