"""An ASGI app served by uvicorn on a thread of its own (the bots' API, the local Amazon Connect):
started and waited for, and stopped in milliseconds rather than a fifth of a second.

uvicorn's own loop looks whether it should stop every 0.1 s, and its shutdown then pauses 0.1 s
before it waits, in steps of 0.1 s, for the connections and requests to end: about 0.19 s a stop with
nothing open (bench/README.md, "The test suite's wall time"). Here a stop wakes the loop at once and
the same waits are taken in steps of `WAIT_STEP_SECONDS`. What a stop waits for is uvicorn's: the
listeners closed, every connection asked to close, the connections and requests in flight ended (those
still running after `timeout_graceful_shutdown` cancelled), then the app's lifespan shutdown.

The listening sockets are made here (`listening_sockets`), before the thread starts, so that an address
that cannot be had (a port taken or out of range, a host that is not this machine's or does not
resolve) is `CannotListen` with the system's reason, for the command to say, and not a server thread
that ended on its own.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
import time
from contextlib import suppress

import uvicorn
from websockets.exceptions import InvalidState

WAIT_STEP_SECONDS = 0.005
TICK_SECONDS = 0.1  # uvicorn's: its `on_tick` refreshes the Date header every tenth

_uvicorn_log = logging.getLogger("uvicorn.error")  # where uvicorn's own shutdown says what it cancelled


class CannotListen(Exception):
    """No socket listens at the address asked for; the message says the address and why. `lasting`:
    False for what may pass by itself (the port held by another program for now, a name server not
    answering at boot), which a service manager should try again; True for a mistake to mend."""

    def __init__(self, message: str, *, lasting: bool = True) -> None:
        super().__init__(message)
        self.lasting = lasting


_PASSING = {errno.EADDRINUSE, socket.EAI_AGAIN}


def listening_sockets(host: str, port: int) -> list[socket.socket]:
    """TCP sockets bound to every address `host` names ("" or "0.0.0.0": every IPv4 one; "::" IPv6 too,
    as `getaddrinfo` says), all on `port` (0: a free one, the same for each), for `ServerThread`.

    proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only then, and without it
    every answer waits ~40 ms for a delayed ACK."""
    if not 0 <= port <= 65535:
        raise CannotListen(f"cannot listen on {host}:{port}: a port is 0 to 65535")
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        message = f"cannot listen on {host}:{port}: {error.strerror}"
        raise CannotListen(message, lasting=error.errno not in _PASSING) from None
    listeners: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(addresses):
            listener = socket.socket(family, kind, proto)
            listeners.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # beside the IPv4 one, as asyncio
            if port == 0 and len(listeners) > 1:
                address = (address[0], listeners[0].getsockname()[1], *address[2:])
            listener.bind(address)
    except OSError as error:
        for listener in listeners:
            listener.close()
        raise CannotListen(
            f"cannot listen on {host}:{port}: {error.strerror or error}", lasting=error.errno not in _PASSING
        ) from None
    return listeners


class _PromptServer(uvicorn.Server):
    """uvicorn's server whose stop is told, not polled for, and whose shutdown waits in short steps."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_asked: asyncio.Event | None = None

    def ask_to_stop(self) -> None:
        """From any thread: stop serving (as `should_exit`), the loop woken now."""
        self.should_exit = True
        loop, asked = self._loop, self._stop_asked
        if loop is not None and asked is not None:
            with suppress(RuntimeError):  # its loop has ended already
                loop.call_soon_threadsafe(asked.set)

    async def main_loop(self) -> None:
        self._stop_asked = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stop_asked.wait(), TICK_SECONDS)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            try:
                connection.shutdown()
            except InvalidState:
                # A websocket whose peer's close was answered and its transport closed, but not yet lost
                # (the answer queued behind data the peer has not read): uvicorn's websockets protocol
                # raises when asked to close it again. It is closing already; the others still are
                # asked, and the stop goes on to wait for them all.
                _uvicorn_log.debug("a websocket was closing already at the stop")
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                while (self.server_state.connections or self.server_state.tasks) and not self.force_exit:
                    await asyncio.sleep(WAIT_STEP_SECONDS)
                for server in self.servers:
                    await server.wait_closed()
        except TimeoutError:
            _uvicorn_log.error("Cancel %s running task(s), timeout graceful shutdown exceeded",
                               len(self.server_state.tasks))
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()


class ServerThread:
    """`config`'s app served on a thread named `name`, on `sockets` if given (else config's host and
    port)."""

    def __init__(self, config: uvicorn.Config, name: str, sockets: list[socket.socket] | None = None) -> None:
        self._server = _PromptServer(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": sockets}, name=name, daemon=True)

    def start(self, timeout: float) -> tuple[str, int]:
        """Serve; once it listens, its address (host, port). RuntimeError if it ends or is not
        listening within `timeout` seconds."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"{self._thread.name} ended before it listened")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self._thread.name} was not listening after {timeout} s")
            time.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return host, port

    def stop(self, timeout: float) -> None:
        """Stop serving (see the module) and wait up to `timeout` seconds for it; again, nothing."""
        self._server.ask_to_stop()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)
