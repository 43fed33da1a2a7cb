"""What the leak test runs against besides the service: a bot's webhook that keeps each POST's headers
and body (after refusing the first, so a retry is logged too), and a shortening API on loopback that
keeps the key each request carried."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: str

    @property
    def message(self) -> dict[str, Any]:
        return json.loads(self.body)


class Webhook:
    """A bot's webhook: every POST as it came, headers and body; the first `unavailable` POSTs are
    answered 503 (and not kept), as a bot restarting would."""

    def __init__(self, unavailable: int = 1) -> None:
        self.deliveries: list[Delivery] = []
        self.unavailable = unavailable
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if webhook.unavailable > 0:
                    webhook.unavailable -= 1
                    self.send_response(503)
                else:
                    webhook.deliveries.append(Delivery(dict(self.headers.items()), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"

    def messages(self, kind: str, conversation_id: str) -> list[dict[str, Any]]:
        return [
            m for d in self.deliveries if (m := d.message)["Type"] == kind and m["ConversationId"] == conversation_id
        ]


class Shortener:
    """A shortening API: `https://sqz.test/<the link's last word>` for every link, and the `x-api-key`
    each request carried."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []
        shortener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                url = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["url"]
                shortener.keys.append(self.headers.get("x-api-key"))
                body = json.dumps({"shortUrl": f"https://sqz.test/{url.rstrip('/').rsplit('/', 1)[-1]}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/standard"


@contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    made = Webhook()
    with _serving(made.server):
        yield made


@pytest.fixture
def shortener() -> Iterator[Shortener]:
    made = Shortener()
    with _serving(made.server):
        yield made
