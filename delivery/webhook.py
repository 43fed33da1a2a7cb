"""Posts every bot message to its conversation's webhook: in order per conversation, signed, retried.

    deliverer = WebhookDeliverer(store, secret=b"...")
    deliverer.start()
    ...
    deliverer.stop()

One tail thread reads the global log from the durable checkpoint and tells
each conversation's outbox how far its stream goes; a few sender threads read
the messages of whichever outbox is due from its stream and post them. A conversation has at most one POST in
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
READ_BATCH = 200  # stream events read into an outbox at once
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
    """A conversation's place in delivery. Messages are read from its stream a batch at a time.

    The tail only raises `known_seq`; the sender that owns the outbox reads the
    stream after `read_seq` into `batch`, so a conversation whose webhook is
    down costs a number, not a queue of its messages.
    """

    conversation_id: str
    url: str
    read_seq: int
    known_seq: int = 0
    batch: deque[StoredEvent] = field(default_factory=deque)
    attempts: int = 0
    busy: bool = False  # being posted, or waiting in the due heap

    def has_work(self) -> bool:
        return bool(self.batch) or self.read_seq < self.known_seq


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
        for conversation_id, _ in checkpoints.owed():
            self._owe(conversation_id, self._store.stream_version(conversation_stream(conversation_id)))

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
        """Tell the conversation's outbox of a bot message; False if it is not one to post."""
        if not is_for_the_bot(stored):
            return False
        conversation_id = conversation_id_of(stored)
        if stored.type == HANDBACK_TYPE and conversation_id in self._ignored:
            self._ignored.discard(conversation_id)  # its last event: nothing more to ignore
            return False
        return self._owe(conversation_id, stored.seq)

    def _owe(self, conversation_id: str, seq: int) -> bool:
        """The conversation is owed what its stream holds up to `seq`; False if it has no webhook."""
        with self._changed:
            outbox = self._outboxes.get(conversation_id)
        if outbox is None:
            if conversation_id in self._ignored:
                return False
            outbox = self._open_outbox(conversation_id)
            if outbox is None:
                return False
        with self._changed:
            outbox.known_seq = max(outbox.known_seq, seq)
            if not outbox.busy and outbox.has_work():
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
            return self._outboxes.setdefault(conversation_id, _Outbox(conversation_id, url, read_seq=delivered_seq))

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
            if not outbox.batch:
                self._read_batch(outbox)
                if not outbox.batch:
                    self._idle(outbox)
                    continue
            stored = outbox.batch[0]
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

    def _read_batch(self, outbox: _Outbox) -> None:
        with self._changed:
            until = min(outbox.known_seq, outbox.read_seq + READ_BATCH)
        stream = conversation_stream(outbox.conversation_id)
        stored = self._store.read_stream(stream, after_seq=outbox.read_seq, until_seq=until)
        outbox.batch.extend(event for event in stored if is_for_the_bot(event))
        outbox.read_seq = until

    def _idle(self, outbox: _Outbox) -> None:
        with self._changed:
            outbox.busy = False
            if outbox.has_work():
                self._schedule(outbox, time.monotonic())

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
            outbox.batch.popleft()
            outbox.attempts = 0
            outbox.busy = False
            if stored.type == HANDBACK_TYPE:
                del self._outboxes[outbox.conversation_id]
            elif outbox.has_work():
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
