"""The bot's side of the HTTP API, as a careful bot behaves when the service may die at any moment:
every message carries a MessageId, and a request that got no answer (connection refused or reset,
or no reply before the kill) is sent again, unchanged, until the service answers. The API keeps a
MessageId once, so 'sent again' never means 'said twice'; a bot that gave up instead would lose it."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from tests.crash.activity import Activity
from tests.crash.service_process import auth_headers

NO_ANSWER = (ConnectionError, http.client.HTTPException, TimeoutError, OSError)
REQUEST_TIMEOUT = 15.0
MOST_WAITED = 10.0  # seconds: the longest Retry-After the bot waits before sending again
GIVE_UP_AFTER = 90.0  # a bot request unanswered this long fails the run: the service did not come back


@dataclass
class Sent:
    """One bot message and what became of it. `outcome`: accepted (a 2xx: the service holds it),
    refused (a 409: the conversation had ended). `unanswered`: attempts that got no answer; a message
    refused after one of those may or may not have been taken before the crash."""

    message_id: str
    text: str
    outcome: str = "pending"
    unanswered: int = 0


@dataclass
class BotRecord:
    """What one conversation's bot did, for the checker."""

    conversation_id: str
    transferred: bool = False
    sent: list[Sent] = field(default_factory=list)
    unanswered: int = 0  # requests sent that got no answer (maybe taken)
    refused_connections: int = 0  # attempts while the service was down (surely not taken)
    told_to_wait: int = 0  # answers 429 (its webhook deliveries behind): nothing taken, sent again after Retry-After


class BotApi:
    """The service's bots' API at a fixed URL; each call on a fresh connection, retried until answered."""

    def __init__(self, api_url: str, credential: str, rng: random.Random, activity: Activity | None = None,
                 others: tuple[str, ...] = ()) -> None:
        """`others`: further nodes' API URLs (the three-node mode), tried in turn when a node refuses the
        connection (it is down), as a load balancer in front of the nodes would."""
        self._addresses = [_address(url) for url in (api_url, *others)]
        self._at = 0
        self._headers = {"Content-Type": "application/json", **auth_headers(credential)}
        self._rng = rng
        self._lock = threading.Lock()
        self._activity = activity or Activity()
        self._closed = threading.Event()

    def close(self) -> None:
        """The run is over: requests still retrying give up at their next attempt."""
        self._closed.set()

    def transfer(self, record: BotRecord, worker_id: str, deliver_to: str, user_name: str,
                 context: dict[str, Any] | None = None) -> None:
        """`context` is added to the conversation's `{"Case": <conversation id>}`."""
        body = {"ConversationId": record.conversation_id, "WorkerId": worker_id, "BotName": "CrashBot",
                "User": {"Name": user_name}, "Context": {"Case": record.conversation_id, **(context or {})},
                "DeliverTo": deliver_to}
        status, answer, unanswered = self._until_answered(record, "POST", "/v1/conversations", body)
        # A transfer that got no answer went through if the retry finds the id taken, or the conversation
        # already over (how it ended is for the checks: the hand-back's reason is compared with the plan).
        taken = status == 409 and _code(answer) in ("already_transferred", "conversation_ended")
        if status == 201 or (taken and unanswered):
            record.transferred = True
            return
        raise AssertionError(f"transfer {record.conversation_id}: {status} {answer}")

    def say(self, record: BotRecord, message_id: str, text: str) -> Sent:
        sent = Sent(message_id, text)
        record.sent.append(sent)
        path = f"/v1/conversations/{urllib.parse.quote(record.conversation_id)}/messages"
        body = {"MessageId": message_id, "Text": text}
        status, answer, sent.unanswered = self._until_answered(record, "POST", path, body)
        if status == 202:
            sent.outcome = "accepted"
        elif status == 409 and _code(answer) in ("conversation_ended", "user_left"):
            sent.outcome = "refused"
        else:
            raise AssertionError(f"message {message_id} of {record.conversation_id}: {status} {answer}")
        return sent

    def _until_answered(self, record: BotRecord, method: str, path: str, body: Any) -> tuple[int, Any, int]:
        """The first answer below 500 other than 429 (told to wait: sent again after Retry-After), and how
        many attempts before it got none."""
        data = json.dumps(body).encode()
        deadline = time.monotonic() + GIVE_UP_AFTER
        unanswered = 0
        while True:
            told_to_wait = 0.0
            host, port = self._addresses[self._at]
            connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
            try:
                connection.request(method, path, body=data, headers=self._headers)
                self._activity.happened()
                answer = connection.getresponse()
                raw = answer.read()
                if answer.status == 429:
                    # Told to wait (webhook delivery behind): nothing was taken; sent again after Retry-After.
                    record.told_to_wait += 1
                    told_to_wait = min(float(answer.getheader("Retry-After") or 1), MOST_WAITED)
                elif answer.status < 500:
                    return answer.status, json.loads(raw) if raw else None, unanswered
                else:
                    unanswered += 1
                    record.unanswered += 1
            except ConnectionRefusedError:
                record.refused_connections += 1  # the service is down: this attempt decided nothing
                with self._lock:
                    self._at = (self._at + 1) % len(self._addresses)
            except NO_ANSWER:
                unanswered += 1  # sent, maybe taken, no answer: the kill came in between
                record.unanswered += 1
            finally:
                connection.close()
            if self._closed.is_set():
                raise AssertionError(f"{method} {path}: the run ended while it was still retrying")
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path}: no answer from the service in {GIVE_UP_AFTER} s")
            with self._lock:
                pause = self._rng.uniform(0.02, 0.1)
            time.sleep(told_to_wait or pause)  # a client's retry backoff (or the wait it was told), not synchronisation


def _address(api_url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(api_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _code(answer: Any) -> str | None:
    return answer.get("Code") if isinstance(answer, dict) else None
