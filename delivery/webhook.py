"""Posts every bot message to its conversation's webhook: in order per conversation, signed, retried.

    deliverer = WebhookDeliverer(store, secret=b"...")
    deliverer.start()
    ...
    deliverer.stop()

One tail thread reads the global log from the durable checkpoint and queues
each bot message on its conversation's outbox; a few sender threads post the
head of whichever outbox is due. A conversation has at most one POST in
flight, so its messages arrive in stream order; a conversation whose webhook
fails waits for its backoff without holding a sender, so the others go on.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import json
import logging
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from delivery.backoff import Backoff
from delivery.checkpoint import Checkpoints
from delivery.messages import HANDBACK_TYPE, bot_message, conversation_id_of, delivery_id, is_for_the_bot
from delivery.signature import DELIVERY_ID_HEADER, signature_headers
from events import decode
from events.conversation_events import Transferred
from store.conversations import conversation_stream
from store.event_store import EventStore
from store.records import StoredEvent

log = logging.getLogger(__name__)

RETRIED_CLIENT_ERRORS = frozenset({408, 429})
DEFAULT_BACKOFF = Backoff()
TAIL_WAIT_SECONDS = 0.1  # also how long stop() may wait for the tail


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other 3xx (refused): following it would turn the POST into a GET."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Outcome(Enum):
    DELIVERED = "delivered"
    REFUSED = "refused"  # permanent: not retried, the conversation goes on with its next message
    RETRY = "retry"


@dataclass(frozen=True)
class DeliveryStats:
    delivered: int
    refused: int
    retries: int


@dataclass
class _Outbox:
    conversation_id: str
    url: str
    pending: deque[StoredEvent] = field(default_factory=deque)
    queued_seq: int = 0
    attempts: int = 0
    busy: bool = False  # in flight, or waiting in the due heap


class WebhookDeliverer:
    """Delivers the bot messages of every conversation that has a webhook (`Transferred.deliver_to`).

    `clock` gives the Unix time signed into each POST; `backoff` decides the
    waits between retries (pass a small one in tests). Each message is
    delivered at least once; after a crash, only the one in flight may come twice.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        secret: bytes,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        senders: int = 4,
        page_size: int = 500,
    ) -> None:
        if not secret:
            raise ValueError("secret must not be empty")
        self._store = store
        self._secret = secret
        self._clock = clock
        self._timeout = timeout
        self._backoff = backoff
        self._senders = senders
        self._page_size = page_size
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())
        self._checkpoints: Checkpoints | None = None
        self._outboxes: dict[str, _Outbox] = {}
        self._ignored: set[str] = set()  # no webhook, or already handed back
        self._due: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._delivered = self._refused = self._retries = 0

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("WebhookDeliverer already started")
        self._stopping.clear()
        self._checkpoints = Checkpoints(self._store.path)
        self._requeue_owed(self._checkpoints)
        self._threads = [threading.Thread(target=self._tail, name="delivery-tail", daemon=True)]
        self._threads += [
            threading.Thread(target=self._send, name=f"delivery-sender-{n}", daemon=True) for n in range(self._senders)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stops tailing; POSTs in flight finish (within the HTTP timeout) and are checkpointed."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads = []
        with self._changed:
            self._outboxes.clear()
            self._due.clear()
        if self._checkpoints is not None:
            self._checkpoints.close()
            self._checkpoints = None

    def stats(self) -> DeliveryStats:
        with self._changed:
            return DeliveryStats(self._delivered, self._refused, self._retries)

    def _requeue_owed(self, checkpoints: Checkpoints) -> None:
        for conversation_id, delivered_seq in checkpoints.owed():
            stream = conversation_stream(conversation_id)
            for stored in self._store.read_stream(stream, after_seq=delivered_seq):
                self._queue(stored)

    def _tail(self) -> None:
        assert self._checkpoints is not None
        position = self._checkpoints.tail_position()
        while not self._stopping.is_set():
            page = self._store.read_all(after_position=position, limit=self._page_size)
            if not page:
                self._store.wait_for_position(position, timeout=TAIL_WAIT_SECONDS)
                continue
            owed = {conversation_id_of(stored) for stored in page if self._queue(stored)}
            try:
                self._checkpoints.scanned(page[-1].position, owed)
            except sqlite3.Error:
                # Queueing is idempotent (by seq), so the page is simply read again.
                log.exception("could not record the delivery tail; reading the page again")
                self._stopping.wait(TAIL_WAIT_SECONDS)
                continue
            position = page[-1].position

    def _queue(self, stored: StoredEvent) -> bool:
        """Queue a bot message on its conversation's outbox; False if it is not one to post."""
        if not is_for_the_bot(stored):
            return False
        conversation_id = conversation_id_of(stored)
        with self._changed:
            outbox = self._outboxes.get(conversation_id)
        if outbox is None:
            if conversation_id in self._ignored:
                return False
            outbox = self._open_outbox(conversation_id)
            if outbox is None:
                return False
        with self._changed:
            if stored.seq <= outbox.queued_seq:
                return True
            outbox.pending.append(stored)
            outbox.queued_seq = stored.seq
            if not outbox.busy:
                self._schedule(outbox, time.monotonic())
        return True

    def _open_outbox(self, conversation_id: str) -> _Outbox | None:
        """The conversation's outbox, starting after what the checkpoint says was delivered."""
        assert self._checkpoints is not None
        url = self._webhook_of(conversation_id)
        delivered_seq, handed_back = self._checkpoints.progress(conversation_id)
        with self._changed:
            if not url or handed_back:
                self._ignored.add(conversation_id)
                return None
            return self._outboxes.setdefault(conversation_id, _Outbox(conversation_id, url, queued_seq=delivered_seq))

    def _webhook_of(self, conversation_id: str) -> str:
        first = self._store.read_stream(conversation_stream(conversation_id), until_seq=1)
        transferred = decode(first[0].data) if first else None
        return transferred.deliver_to if isinstance(transferred, Transferred) else ""

    def _schedule(self, outbox: _Outbox, due: float) -> None:
        outbox.busy = True
        heapq.heappush(self._due, (due, next(self._order), outbox.conversation_id))
        self._changed.notify()

    def _send(self) -> None:
        while True:
            outbox = self._next_due()
            if outbox is None:
                return
            stored = outbox.pending[0]
            outcome = self._post(outbox.url, stored)
            if outcome is not Outcome.RETRY:
                self._record(outbox.conversation_id, stored)
            self._after(outbox, stored, outcome)

    def _record(self, conversation_id: str, stored: StoredEvent) -> None:
        assert self._checkpoints is not None
        try:
            self._checkpoints.delivered(conversation_id, stored.seq, handed_back=stored.type == HANDBACK_TYPE)
        except sqlite3.Error:
            # Delivery goes on; only a restart before the next checkpoint would send this one again.
            log.exception("could not record the delivery of %s", delivery_id(conversation_id, stored.seq))

    def _next_due(self) -> _Outbox | None:
        with self._changed:
            while not self._stopping.is_set():
                now = time.monotonic()
                if self._due and self._due[0][0] <= now:
                    _, _, conversation_id = heapq.heappop(self._due)
                    return self._outboxes[conversation_id]
                self._changed.wait(self._due[0][0] - now if self._due else None)
            return None

    def _after(self, outbox: _Outbox, stored: StoredEvent, outcome: Outcome) -> None:
        with self._changed:
            if outcome is Outcome.RETRY:
                outbox.attempts += 1
                self._retries += 1
                self._schedule(outbox, time.monotonic() + self._backoff.delay(outbox.attempts))
                return
            if outcome is Outcome.DELIVERED:
                self._delivered += 1
            else:
                self._refused += 1
            outbox.pending.popleft()
            outbox.attempts = 0
            outbox.busy = False
            if stored.type == HANDBACK_TYPE:
                del self._outboxes[outbox.conversation_id]
            elif outbox.pending:
                self._schedule(outbox, time.monotonic())

    def _post(self, url: str, stored: StoredEvent) -> Outcome:
        message = bot_message(stored)
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            log.warning("webhook of conversation %s is not an http(s) URL; %s not delivered",
                        message["ConversationId"], message["Id"])
            return Outcome.REFUSED
        body = json.dumps(message, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            DELIVERY_ID_HEADER: message["Id"],
            **signature_headers(self._secret, body, timestamp=int(self._clock())),
        }
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._http.open(request, timeout=self._timeout) as response:
                response.read()
                return Outcome.DELIVERED
        except urllib.error.HTTPError as error:
            error.close()
            if error.code >= 500 or error.code in RETRIED_CLIENT_ERRORS:
                log.info("webhook answered %s with HTTP %d; will retry", message["Id"], error.code)
                return Outcome.RETRY
            log.warning("webhook refused %s with HTTP %d; not retried", message["Id"], error.code)
            return Outcome.REFUSED
        except (OSError, http.client.HTTPException) as error:
            log.info("webhook unreachable for %s (%s); will retry", message["Id"], type(error).__name__)
            return Outcome.RETRY
