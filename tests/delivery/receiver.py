"""A bot's webhook on 127.0.0.1: records every POST and answers as it is told, per conversation."""

from __future__ import annotations

import json
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

    @property
    def message(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """`fail(conversation, times, status)` makes it answer `status` that many times (or until `heal`)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.requests: list[Received] = []
        self._failures: dict[str, int] = defaultdict(int)
        self._failure_status: dict[str, int] = {}
        self._gate = threading.Event()
        self._gate.set()
        self._hold_from: int | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                conversation_id = self.path.rsplit("/", 1)[-1]
                status = receiver._answer(conversation_id, body, dict(self.headers))
                receiver._gate.wait()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender died while the answer was held

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, conversation_id: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/bot/{conversation_id}"

    def fail(self, conversation_id: str, times: int, status: int = 500) -> None:
        with self._changed:
            self._failures[conversation_id] = times
            self._failure_status[conversation_id] = status

    def heal(self, conversation_id: str) -> None:
        self.fail(conversation_id, 0)

    def hold_from(self, count: int) -> None:
        """From the `count`-th request on, record each request but hold its answer until `release`."""
        with self._changed:
            self._hold_from = count

    def release(self) -> None:
        with self._changed:
            self._hold_from = None
            self._gate.set()

    def _answer(self, conversation_id: str, body: bytes, headers: dict[str, str]) -> int:
        with self._changed:
            if self._hold_from is not None and len(self.requests) + 1 >= self._hold_from:
                self._gate.clear()
            status = 200
            if self._failures[conversation_id] > 0:
                self._failures[conversation_id] -= 1
                status = self._failure_status[conversation_id]
            self.requests.append(Received(conversation_id, body, headers, status))
            self._changed.notify_all()
            return status

    def accepted(self, conversation_id: str | None = None) -> list[Received]:
        with self._changed:
            return [r for r in self.requests if r.status == 200 and conversation_id in (None, r.conversation_id)]

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

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
