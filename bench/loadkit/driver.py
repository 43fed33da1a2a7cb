"""Driving the service's HTTP API as many bots would: keep-alive connections, paced sends."""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def connect_time(text: str) -> float:
    """Amazon Connect's AbsoluteTime (UTC, milliseconds) as epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class JsonClient:
    """One keep-alive HTTP connection per thread to one base URL."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self._host, self._port, self._prefix = parts.hostname, parts.port, parts.path.rstrip("/")
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._local = threading.local()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, answer, _ = self.exchange(method, path, body)
        return status, answer

    def exchange(self, method: str, path: str, body: Any = None) -> tuple[int, Any, http.client.HTTPMessage]:
        """The status, the JSON answer and the headers."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request(method, self._prefix + path, body=data, headers=self._headers)
                answer = connection.getresponse()
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else None, answer.headers
            except (ConnectionError, http.client.HTTPException):
                # A keep-alive connection the server closed: one fresh try.
                self._local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=120)
            self._local.connection = connection
        return connection


@dataclass(frozen=True, slots=True)
class Sent:
    """A message sent at `sent_at`, accepted (2xx) at `accepted_at`."""

    key: str
    text: str
    sent_at: float
    accepted_at: float


def paced(
    keys: Sequence[str],
    rate: float,
    send: Callable[[str, str], float | None],
    *,
    label: str,
    workers: int = 32,
) -> list[Sent]:
    """Send one message per key at `rate` a second, on schedule (the key's index / rate after the start),
    from `workers` threads; `send(key, text)` returns once the message is accepted, with the time the
    accepted attempt was sent when it was not the first (a 429 waited for). Each text is
    unique (`label` names the phase), so that it identifies the message at Connect and in its answer.

    Each worker takes the next index when it is free: a soak's 60,000 sends are not made into 60,000
    futures up front, whose allocation made the driver (the bots' webhook too) collect its old
    generation seven times as the soak began (bench/README.md, "Whose pauses those are")."""
    start = time.monotonic() + 0.2
    results: list[Sent] = []
    lock = threading.Lock()
    indexes = itertools.count()

    def one(index: int) -> None:
        key = keys[index]
        text = f"{label} {key} #{index}"
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent_at = time.time()
        sent_at = send(key, text) or sent_at
        accepted_at = time.time()
        with lock:
            results.append(Sent(key, text, sent_at, accepted_at))

    def work() -> None:
        while (index := next(indexes)) < len(keys):
            one(index)

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()
    return results


class Api:
    """The bots' API of the service under test."""

    def __init__(self, api_url: str, token: str) -> None:
        self._client = JsonClient(api_url, {"Authorization": f"Bearer {token}"})
        self._lock = threading.Lock()
        self.refused = 0  # 429s: the message was sent again after Retry-After
        self.refused_wait_s = 0.0  # the Retry-After waits, summed

    def transfer(self, conversation_id: str, worker_id: str, webhook_url: str) -> None:
        body = {"ConversationId": conversation_id, "WorkerId": worker_id, "BotName": "LoadBot", "DeliverTo": webhook_url}
        status, answer, _ = self._until_not_refused("/v1/conversations", body)
        if status != 201:
            raise RuntimeError(f"transfer {conversation_id}: {status} {answer}")

    def leave(self, conversation_id: str) -> None:
        """The bot ends the chat: the service disconnects it and hands the conversation back."""
        status, answer, _ = self._until_not_refused(f"/v1/conversations/{conversation_id}/leave", {})
        if status != 202:
            raise RuntimeError(f"leave {conversation_id}: {status} {answer}")

    def say(self, conversation_id: str, text: str) -> float | None:
        """The time the accepted attempt was sent, if not the first (after a 429)."""
        body = {"MessageId": text, "Text": text}
        status, answer, sent_at = self._until_not_refused(f"/v1/conversations/{conversation_id}/messages", body)
        if status != 202:
            raise RuntimeError(f"message to {conversation_id}: {status} {answer}")
        return sent_at

    def _until_not_refused(self, path: str, body: Any) -> tuple[int, Any, float | None]:
        """POST until the answer is not a 429 (delivery behind): a 429 is no lost message but a request to
        wait its Retry-After and send again, as a bot should. The status, the answer, and the time the
        last attempt was sent if it was not the first."""
        sent_at = None
        while True:
            status, answer, headers = self._client.exchange("POST", path, body)
            if status != 429:
                return status, answer, sent_at
            wait = float(headers.get("Retry-After", "1"))
            with self._lock:
                self.refused += 1
                self.refused_wait_s += wait
            time.sleep(wait)
            sent_at = time.time()

    def contact_id(self, conversation_id: str) -> str:
        status, answer = self._client.call("GET", f"/v1/conversations/{conversation_id}")
        if status != 200 or not answer.get("ContactId"):
            raise RuntimeError(f"conversation {conversation_id}: {status} {answer}")
        return answer["ContactId"]


def transfer_all(api: Api, conversation_ids: Sequence[str], worker_id: str, webhook_url: str, workers: int = 16) -> float:
    """Transfer every conversation; returns the seconds it took for the API to accept them all."""
    began = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(api.transfer, cid, worker_id, webhook_url) for cid in conversation_ids]:
            future.result()
    return time.monotonic() - began


class ConnectAdmin:
    """The local Amazon Connect's admin API: every item of a contact with the moment Connect took it; added latency."""

    def __init__(self, admin_url: str) -> None:
        self._client = JsonClient(admin_url)

    def set_latency(self, seconds: float) -> None:
        """Added to every REST call from now on (0: none), as a real region's round trip would be."""
        status, answer = self._client.call("POST", "/faults/latency", {"Seconds": seconds})
        if status != 200:
            raise RuntimeError(f"latency {seconds}: {status} {answer}")

    def items(self, contact_id: str) -> list[dict[str, Any]]:
        status, answer = self._client.call("GET", f"/contacts/{contact_id}")
        if status != 200:
            raise RuntimeError(f"contact {contact_id}: {status} {answer}")
        return answer["Items"]

    def message_times(self, contact_ids: Sequence[str], workers: int = 8) -> dict[tuple[str, str], float]:
        """(role, content) -> the moment Connect took each message of these contacts, in epoch seconds.
        Its ReceivedAt, not its AbsoluteTime: AbsoluteTime is rounded to the millisecond, and the paced
        sends all begin at the same fraction of a millisecond, so the rounding would shift a whole run's
        bare SendMessage latencies by one amount between -0.5 and +0.5 ms (bench/README.md, "Connect's
        clock in milliseconds")."""
        times: dict[tuple[str, str], float] = {}
        with ThreadPoolExecutor(workers) as pool:
            for items in pool.map(self.items, contact_ids):
                for item in items:
                    if item.get("Type") == "MESSAGE":
                        times[(item["ParticipantRole"], item["Content"])] = item["ReceivedAt"]
        return times
