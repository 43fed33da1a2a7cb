"""An actor asked from the event loop, with no thread of the pool waiting for the answer.

`run_in_threadpool(ref.ask, ...)` costs a bot's every message two thread wake-ups more than the ask
itself (the loop hands the call to a pool thread, which hands the answer back) and anyio's bookkeeping
around them: under load that was about a sixth of the service's CPU. Here the message goes into the
actor's inbox as pykka's own `ask` puts it there, and the actor's answer resolves an asyncio future on
the loop. Everything else is pykka's: the actor answers an exception when its handler raises, and
one that stops before taking the message answers `ActorDeadError`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pykka
from pykka._envelope import Envelope  # the inbox's message type (pykka.ActorRef.ask makes them the same way)


class _LoopFuture(pykka.ThreadingFuture[Any]):
    """A pykka future whose value (or exception) is also handed to an asyncio future, on its loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self.answer: asyncio.Future[Any] = loop.create_future()

    def set(self, value: Any | None = None) -> None:
        super().set(value)
        self._hand_over(value, None)

    def set_exception(self, exc_info: Any = None) -> None:
        info = exc_info if exc_info is not None else sys.exc_info()  # as pykka's own does
        super().set_exception(info)
        self._hand_over(None, info[1])

    def _hand_over(self, value: Any, error: BaseException | None) -> None:
        try:
            self._loop.call_soon_threadsafe(_settle, self.answer, value, error)
        except RuntimeError:
            pass  # the loop is closed (the API stopped): nobody is waiting


def _settle(answer: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if answer.done():
        return  # the asker gave up waiting (timeout, or the request was cancelled)
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(value)


async def ask(ref: pykka.ActorRef, message: Any, timeout: float) -> Any:
    """`ref.ask(message, timeout=timeout)`, awaited: the answer, or the exception the actor answered;
    `ActorDeadError` if it is not running, `pykka.Timeout` after `timeout` seconds."""
    future = _LoopFuture(asyncio.get_running_loop())
    if not ref.is_alive():
        raise pykka.ActorDeadError(f"{ref} not found")
    ref.actor_inbox.put(Envelope(message, reply_to=future))
    try:
        return await asyncio.wait_for(asyncio.shield(future.answer), timeout)
    except TimeoutError:
        raise pykka.Timeout(f"{timeout} seconds") from None
