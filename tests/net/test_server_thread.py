"""net/server_thread.py: uvicorn on a thread, whose stop still waits for what uvicorn's waits for."""

from __future__ import annotations

import asyncio
import http.client
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress

import pytest
import uvicorn
import websocket
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from net.server_thread import CannotListen, ServerThread, listening_sockets
from tests.service.harness import wait_for


def lifespan_setting(ended: threading.Event) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """An app's lifespan that sets `ended` once its shutdown has run."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        ended.set()

    return lifespan


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

        return Starlette(routes=[Route("/slow", slow)], lifespan=lifespan_setting(self.lifespan_ended))


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


# More than this machine's socket buffers of both ends hold (net.ipv4.tcp_rmem's and tcp_wmem's most
# are 32 and 4 MB): what the peer does not read stays in uvicorn's transport.
FLOOD_BYTES = 64 * 1024 * 1024


class FloodingSocketApp:
    """A websocket route that sends more than the socket's buffers hold to a peer that reads nothing,
    so that uvicorn's transport keeps the rest, and a lifespan."""

    def __init__(self) -> None:
        self.flooding = threading.Event()
        self.peer_closed = threading.Event()
        self.lifespan_ended = threading.Event()

    def app(self) -> Starlette:
        async def flood(websocket: WebSocket) -> None:
            await websocket.accept()

            await websocket.send_bytes(bytes(FLOOD_BYTES))  # written at once, most of it held
            self.flooding.set()
            await websocket.receive()  # the peer's close: uvicorn has answered it behind the rest
            self.peer_closed.set()
            with suppress(Exception):
                await websocket.send_bytes(b"")  # held until the stop cancels it: the connection stays

        return Starlette(routes=[WebSocketRoute("/flood", flood)], lifespan=lifespan_setting(self.lifespan_ended))


def test_a_stop_goes_on_past_a_socket_its_peer_closed_while_uvicorn_could_not_flush_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The peer's close frame answered but the connection not yet lost (its answer waits behind data
    the peer does not read): uvicorn's websockets protocol raises when the stop asks it to close."""
    flooding = FloodingSocketApp()
    config = uvicorn.Config(flooding.app(), host="127.0.0.1", port=0, log_level="critical", log_config=None,
                            lifespan="on", ws="websockets-sansio", timeout_graceful_shutdown=0.1)
    served = ServerThread(config, "test-server")
    _, port = served.start(timeout=10)
    peer = websocket.create_connection(f"ws://127.0.0.1:{port}/flood", timeout=10)
    failures: list[threading.ExceptHookArgs] = []
    hook, threading.excepthook = threading.excepthook, failures.append
    try:
        assert flooding.flooding.wait(10)
        peer.send_close()  # and reads nothing more
        assert flooding.peer_closed.wait(10)
        with caplog.at_level(logging.DEBUG, logger="uvicorn.error"):
            served.stop(timeout=10)
    finally:
        threading.excepthook = hook
        peer.shutdown()

    # The case arose (on a machine whose socket buffers hold the flood it would not, and this fails):
    assert "a websocket was closing already at the stop" in caplog.messages
    assert [failure.exc_value for failure in failures] == []
    assert flooding.lifespan_ended.is_set()


def test_an_address_that_cannot_be_had_says_whether_it_may_pass() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        with pytest.raises(CannotListen) as held:
            listening_sockets("127.0.0.1", taken.getsockname()[1])
    assert not held.value.lasting and "Address already in use" in str(held.value)
    with pytest.raises(CannotListen) as nowhere:
        listening_sockets("no such host!", 0)
    assert nowhere.value.lasting
