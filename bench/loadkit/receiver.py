"""The bot's side: a webhook that notes when each message arrives, served like the API (uvicorn on a thread)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.server import ApiServer


@dataclass(frozen=True, slots=True)
class Arrival:
    conversation_id: str
    type: str
    text: str | None
    at: float


class Webhook:
    """`url` takes the service's POSTs; `arrivals` lists them; a repeated delivery Id is counted, not kept twice."""

    def __init__(self) -> None:
        self.arrivals: dict[str, Arrival] = {}
        self.duplicates = 0
        self.by_type: Counter[str] = Counter()
        self._changed = threading.Condition()
        self._server = ApiServer(Starlette(routes=[Route("/hook", self._hook, methods=["POST"])]))
        self.url = ""

    def start(self) -> Webhook:
        self.url = self._server.start().url + "/hook"
        return self

    def stop(self) -> None:
        self._server.stop()

    async def _hook(self, request: Request) -> Response:
        at = time.time()
        message = json.loads(await request.body())
        with self._changed:
            if message["Id"] in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[message["Id"]] = Arrival(message["ConversationId"], message["Type"], message.get("Text"), at)
                self.by_type[message["Type"]] += 1
            self._changed.notify_all()
        return Response(status_code=204)

    def wait_count(self, kind: str, count: int, timeout: float) -> bool:
        """Whether `count` messages of type `kind` arrived within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.by_type[kind] < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def texts(self, kind: str) -> dict[str, float]:
        """Arrival time of each message of type `kind`, by its text."""
        with self._changed:
            return {a.text: a.at for a in self.arrivals.values() if a.type == kind and a.text is not None}
