"""The bots' webhook, in the harness's process on 127.0.0.1 at a free port: verifies each POST's
signature, keeps every one in arrival order (repeats included: the checker counts them), answers 204."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.crash.activity import Activity
from tests.crash.service_process import BotMessage, parse_webhook, verify_webhook


class WebhookReceiver:
    """`secret` is the bot client's webhook signing secret (`whsec_...`), set once `run.py client create`
    has printed it; while it is None nothing is accepted."""

    def __init__(self, activity: Activity | None = None) -> None:
        self.activity = activity or Activity()
        self.secret: str | None = None
        self.unsigned = 0  # POSTs whose signature did not verify (answered 401; the service retries them)
        self.unsigned_samples: list[str] = []  # the first few, for the report: when, the signature headers, the Id
        self._arrivals: dict[str, list[BotMessage]] = {}
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._take(body, dict(self.headers))
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the service was killed while we answered

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="bot-webhook", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _take(self, body: bytes, headers: dict[str, str]) -> int:
        arrived = time.time()
        with self._changed:
            if self.secret is None or not verify_webhook(self.secret, body, headers):
                self.unsigned += 1
                if len(self.unsigned_samples) < 5:
                    signed = {k: v for k, v in headers.items() if k.lower().startswith("webhook-")}
                    self.unsigned_samples.append(f"at {time.time():.3f}: {signed} {body[:80]!r}")
                return 401
            message = parse_webhook(body, arrived=arrived)
            self._arrivals.setdefault(message.conversation_id, []).append(message)
            self._changed.notify_all()
        self.activity.happened()
        return 204

    def arrivals(self, conversation_id: str) -> list[BotMessage]:
        """Every accepted POST of a conversation, in arrival order, repeats included."""
        with self._changed:
            return list(self._arrivals.get(conversation_id, []))

    def once_each(self, conversation_id: str) -> list[BotMessage]:
        """What the bot was told, in arrival order, a repeat of an `Id` dropped (as the bot deduplicates)."""
        seen: set[str] = set()
        first = []
        for message in self.arrivals(conversation_id):
            if message.id not in seen:
                seen.add(message.id)
                first.append(message)
        return first

    def wait_for(self, condition: Callable[[WebhookReceiver], bool], timeout: float) -> bool:
        """Whether `condition(self)` came true within `timeout` seconds (checked at each arrival)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
        return True

    def returned(self, conversation_id: str) -> bool:
        """Whether the hand-back arrived (the caller holds the lock via `wait_for`, or not: reads are atomic)."""
        return any(m.type == "ReturnedToBot" for m in self._arrivals.get(conversation_id, []))
