"""net/server_thread.py: uvicorn on a thread, whose stop still waits for what uvicorn's waits for."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from net.server_thread import ServerThread
from tests.service.harness import wait_for


class SlowApp:
    """One route that answers once `release` is set (`entered`: a request is in it), and a lifespan."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.lifespan_ended = threading.Event()

    def app(self) -> Starlette:
        async def slow(request: Request) -> PlainTextResponse:
            self.entered.set()
            await asyncio.to_thread(self.release.wait, 10)
            return PlainTextResponse("done")

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            yield
            self.lifespan_ended.set()

        return Starlette(routes=[Route("/slow", slow)], lifespan=lifespan)


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        return False  # queued as the listener closed, then reset: the next try is refused
    return False


def test_a_stop_refuses_new_connections_answers_the_request_in_flight_then_ends_the_lifespan() -> None:
    slow = SlowApp()
    config = uvicorn.Config(slow.app(), host="127.0.0.1", port=0, log_level="warning", log_config=None, lifespan="on",
                            timeout_graceful_shutdown=10)
    served = ServerThread(config, "test-server")
    _, port = served.start(timeout=10)
    answers: list[tuple[int, bytes]] = []
    asking = threading.Thread(target=lambda: answers.append(get(port, "/slow")), daemon=True)
    asking.start()
    assert slow.entered.wait(10)

    stopping = threading.Thread(target=served.stop, kwargs={"timeout": 10}, daemon=True)
    stopping.start()
    wait_for(lambda: refused(port), "the stop to close the listener", 10)
    assert stopping.is_alive() and not slow.lifespan_ended.is_set()  # it waits for the request in flight
    slow.release.set()
    stopping.join(10)
    asking.join(10)

    assert not stopping.is_alive()
    assert answers == [(200, b"done")]
    assert slow.lifespan_ended.is_set()
