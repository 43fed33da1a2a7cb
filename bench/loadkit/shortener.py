"""A short-link API on loopback, answering as a worker's ShortLinkConfig expects (actors/short_links.py):
`POST {"url": ...}` with the `x-api-key` header, answered `200 {"shortUrl": "https://sqz.test/<n>"}`.

    >>> shortener = Shortener(key="bench-key").start()
    >>> shortener.url       # the worker's Config.Api
    'http://127.0.0.1:41213/standard'
    >>> shortener.stop()

It answers at once: what a message pays for its links is then the service's part plus the bare HTTP
round trip, which `bench/relay_features.py` measures against this same server.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    # http.server's backlog of 5 drops connections when the accepting thread waits for the GIL a
    # moment, and each dropped SYN costs its client a 1 s retransmission: the bench's stall, not the service's.
    request_queue_size = 128
    daemon_threads = True


class Shortener:
    """Counts what it is asked (`asked`), and requests with a wrong key or no `url` (`refused`, answered 403)."""

    def __init__(self, key: str) -> None:
        self.asked = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler(key))
        self._thread = threading.Thread(target=self._server.serve_forever, name="shortener", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/standard"

    def start(self) -> Shortener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _count(self, *, refused: bool) -> int:
        with self._lock:
            self.asked += 1
            self.refused += refused
            return self.asked

    def _handler(self, key: str) -> type[BaseHTTPRequestHandler]:
        shortener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.headers.get("x-api-key") != key or not isinstance(asked.get("url"), str):
                    shortener._count(refused=True)
                    self._answer(403, {"message": "a wrong key or no url"})
                    return
                self._answer(200, {"shortUrl": f"https://sqz.test/{shortener._count(refused=False)}"})

            def _answer(self, status: int, answer: dict[str, str]) -> None:
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
