"""The server's own scheduler: callbacks run on the server's event loop, now
or after a delay, whichever thread asks. Simulated agents' join delays and
replies, and socket expiries, run here, so tests never have to sleep: a
delay of 0 runs as soon as the loop is free."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the scheduler is not attached to a running server")
        return self._loop

    def call_soon(self, callback: Callable[[], None]) -> None:
        self.loop.call_soon_threadsafe(self._guarded, callback)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        if delay <= 0:
            self.call_soon(callback)
        else:
            self.loop.call_soon_threadsafe(self.loop.call_later, delay, self._guarded, callback)

    @staticmethod
    def _guarded(callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:
            log.exception("scheduled callback failed")
