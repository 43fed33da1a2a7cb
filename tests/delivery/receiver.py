"""A bot's webhook on 127.0.0.1: records every POST and answers as it is told, per conversation."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    conversation_id: str
    body: bytes
    headers: dict[str, str]
    status: int
    held: bool = False  # answered only after a later request of its conversation came: too late for its sender

    @property
    def message(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """`fail(conversation, times, status)` makes it answer `status` that many times (or until `heal`);
    `hold(conversation, times)` holds that many answers until the conversation's next request arrives;
    `stall(conversation)` holds every answer of the conversation until `release`; `drip(conversation)`
    answers 200, then sends the answer's body a byte at a time, without end, until the receiver stops;
    `answer_with(conversation, body)` sends that body with every answer of the conversation.

    `keep_alive` answers in HTTP/1.1, keeping each connection open for the sender's next POST (HTTP/1.0,
    the default, closes it after every answer); `connections` counts the TCP connections accepted.
    """

    def __init__(self, keep_alive: bool = False) -> None:
        self._changed = threading.Condition()
        self.requests: list[Received] = []
        self._failures: dict[str, int] = defaultdict(int)
        self._failure_status: dict[str, int] = {}
        self._holds: dict[str, int] = defaultdict(int)
        self._stalled: set[str] = set()
        self._dripping: set[str] = set()
        self._bodies: dict[str, bytes] = {}
        self._stopping = False
        self._gate = threading.Event()
        self._gate.set()
        self._hold_from: int | None = None
        self._accepted: list[socket.socket] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                conversation_id = self.path.rsplit("/", 1)[-1]
                headers = {name.lower(): value for name, value in self.headers.items()}  # names are case-insensitive
                received = receiver._answer(conversation_id, body, headers)
                receiver._gate.wait()
                if received.held:
                    receiver._wait_for_a_later_one(received)
                receiver._wait_while_stalled(conversation_id)
                try:
                    self.send_response(received.status)
                    if receiver._drips(conversation_id):
                        self.end_headers()  # no length: the body ends when the connection does
                        while receiver._drips(conversation_id):
                            self.wfile.write(b".")
                            self.wfile.flush()
                            time.sleep(0.02)  # the webhook's pace, not a wait for anything
                        return
                    answer = receiver._body(conversation_id)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender died while the answer was held

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def get_request(self) -> tuple[socket.socket, Any]:
                connection, address = super().get_request()
                with receiver._changed:
                    receiver._accepted.append(connection)
                return connection, address

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, conversation_id: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/bot/{conversation_id}"

    def fail(self, conversation_id: str, times: int, status: int = 500) -> None:
        with self._changed:
            self._failures[conversation_id] = times
            self._failure_status[conversation_id] = status

    def hold(self, conversation_id: str, times: int) -> None:
        """Hold the answer to each of the conversation's next `times` requests until it sends another one.

        A sender that gives up on a request (its timeout) and sends it again
        is what releases the held answer: nothing here waits on a clock.
        """
        with self._changed:
            self._holds[conversation_id] = times

    def heal(self, conversation_id: str) -> None:
        self.fail(conversation_id, 0)

    def stall(self, conversation_id: str) -> None:
        with self._changed:
            self._stalled.add(conversation_id)

    def drip(self, conversation_id: str) -> None:
        with self._changed:
            self._dripping.add(conversation_id)

    def answer_with(self, conversation_id: str, body: bytes) -> None:
        with self._changed:
            self._bodies[conversation_id] = body

    def _body(self, conversation_id: str) -> bytes:
        with self._changed:
            return self._bodies.get(conversation_id, b"")

    def _drips(self, conversation_id: str) -> bool:
        with self._changed:
            return conversation_id in self._dripping and not self._stopping

    def _wait_while_stalled(self, conversation_id: str) -> None:
        with self._changed:
            while conversation_id in self._stalled and not self._stopping:
                self._changed.wait()

    def hold_from(self, count: int) -> None:
        """From the `count`-th request on, record each request but hold its answer until `release`."""
        with self._changed:
            self._hold_from = count

    def release(self) -> None:
        """Answer what `hold_from`, `stall` and `drip` held, and hold nothing from now on."""
        with self._changed:
            self._hold_from = None
            self._stalled.clear()
            self._dripping.clear()
            self._changed.notify_all()
            self._gate.set()

    def _answer(self, conversation_id: str, body: bytes, headers: dict[str, str]) -> Received:
        with self._changed:
            if self._hold_from is not None and len(self.requests) + 1 >= self._hold_from:
                self._gate.clear()
            status = 200
            if self._failures[conversation_id] > 0:
                self._failures[conversation_id] -= 1
                status = self._failure_status[conversation_id]
            held = self._holds[conversation_id] > 0
            if held:
                self._holds[conversation_id] -= 1
            received = Received(conversation_id, body, headers, status, held)
            self.requests.append(received)
            self._changed.notify_all()
            return received

    def _wait_for_a_later_one(self, held: Received) -> None:
        """Wait until the held request's conversation sends another request."""
        with self._changed:
            position = next(n for n, r in enumerate(self.requests) if r is held)
            while not self._stopping and all(r.conversation_id != held.conversation_id
                                             for r in self.requests[position + 1:]):
                self._changed.wait()

    def accepted(self, conversation_id: str | None = None) -> list[Received]:
        with self._changed:
            return [r for r in self.requests
                    if r.status == 200 and not r.held and conversation_id in (None, r.conversation_id)]

    def attempts(self, conversation_id: str) -> list[Received]:
        with self._changed:
            return [r for r in self.requests if r.conversation_id == conversation_id]

    def wait_until(self, condition: Any, timeout: float = 10.0) -> None:
        """Wait until `condition(receiver)` holds; fails the test with what arrived if it never does."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    ids = [(r.conversation_id, r.status, json.loads(r.body)["Id"]) for r in self.requests]
                    raise AssertionError(f"condition not met within {timeout} s; received {ids}")
                self._changed.wait(remaining)

    @property
    def connections(self) -> int:
        with self._changed:
            return len(self._accepted)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        with self._changed:
            accepted = list(self._accepted)
        for connection in accepted:  # ends the handler threads of kept-alive connections
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed
