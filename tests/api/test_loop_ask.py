"""An actor asked from the event loop answers as pykka's own ask does: its value, its exception,
ActorDeadError when it stops before taking the message, Timeout when it does not answer in time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from actors.pooled import PooledActor
from api import loop_ask


class Echo(pykka.ThreadingActor):
    """Answers what it is asked; "raise" raises; an event is waited for."""

    def on_receive(self, message: Any) -> Any:
        if message == "raise":
            raise LookupError("asked to raise")
        if isinstance(message, threading.Event):
            message.wait()
            return None
        return f"answer to {message}"


class PooledEcho(PooledActor):
    """The same, on the actors' pool (actors/pooled.py), as the conversation actors run."""

    on_receive = Echo.on_receive


@pytest.fixture(params=[Echo, PooledEcho])
def echo(request: pytest.FixtureRequest) -> Iterator[pykka.ActorRef]:
    ref = request.param.start()
    yield ref
    if ref.is_alive():
        ref.stop()


def test_the_answer_and_the_actors_exception_come_back_to_the_loop(echo: pykka.ActorRef) -> None:
    async def both() -> tuple[Any, BaseException | None]:
        answer = await loop_ask.ask(echo, "hello", timeout=30)
        try:
            await loop_ask.ask(echo, "raise", timeout=30)
        except LookupError as error:
            return answer, error
        return answer, None

    answer, error = asyncio.run(both())
    assert answer == "answer to hello"
    assert isinstance(error, LookupError) and str(error) == "asked to raise"


def test_an_actor_that_stops_before_taking_the_message_answers_actor_dead(echo: pykka.ActorRef) -> None:
    release = threading.Event()
    echo.tell(release)
    stopped = echo.stop(block=False)  # in the inbox before the message asked

    async def asked_while_it_stops() -> None:
        asking = asyncio.ensure_future(loop_ask.ask(echo, "too late", timeout=30))
        await asyncio.sleep(0)  # the message is in the inbox, behind the stop
        release.set()
        await asking

    with pytest.raises(pykka.ActorDeadError):
        asyncio.run(asked_while_it_stops())
    stopped.get(timeout=30)


def test_a_stopped_actor_and_a_late_one_raise_as_pykka_ask_does(echo: pykka.ActorRef) -> None:
    release = threading.Event()
    echo.tell(release)
    with pytest.raises(pykka.Timeout):
        asyncio.run(loop_ask.ask(echo, "busy", timeout=0.01))
    release.set()
    echo.stop()
    with pytest.raises(pykka.ActorDeadError):
        asyncio.run(loop_ask.ask(echo, "gone", timeout=30))
