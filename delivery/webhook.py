"""Posts every bot message to its conversation's webhook: in order per conversation, signed, retried.

    deliverer = WebhookDeliverer(store, signing_secret=lambda client_id: "whsec_...")
    deliverer.start()
    ...
    deliverer.stop()

One tail thread reads the global log from the durable checkpoint and tells
each conversation's outbox how far its stream goes; a few sender threads read
the messages of whichever outbox is due from its stream and post them. A conversation has at most one POST in
flight, so its messages arrive in stream order; a conversation whose webhook
fails waits for its backoff without holding a sender, so the others go on.

No message can stop a sender: whatever goes wrong with one is either
permanent (its URL or headers can never be sent, no signing secret), and the
message is refused and recorded, or taken for passing and retried.
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
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from structlog.contextvars import bound_contextvars

from delivery.checkpoint import Checkpoints
from delivery.messages import HANDBACK_TYPE, bot_message, conversation_id_of, delivery_id, is_for_the_bot
from delivery.signature import BadSecret, signature_headers
from events import EventDecodeError, decode
from events.conversation_events import Transferred
from net import post
from retry import SYSTEM_CLOCK, Backoff, Clock
from store.conversations import conversation_stream
from store.event_store import EventStore
from store.records import StoredEvent

log = logging.getLogger(__name__)

RETRIED_CLIENT_ERRORS = frozenset({408, 429})
DEFAULT_BACKOFF = Backoff(first=0.5, cap=60.0)
READ_BATCH = 200  # stream events read into an outbox at once
TAIL_WAIT_SECONDS = 0.1  # also how long stop() may wait for the tail
TAIL_CHECKPOINT_SECONDS = 1.0  # how far the durable tail may lag behind what the tail has read


class Outcome(Enum):
    DELIVERED = "delivered"
    REFUSED = "refused"  # permanent: not retried, the conversation goes on with its next message
    RETRY = "retry"


class Undeliverable(Exception):
    """This message can never be posted as it stands; the text says why (never the URL or a secret)."""


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
    client_id: str | None  # whose signing secret the POSTs carry
    worker_id: str | None  # for the log lines
    read_seq: int
    known_seq: int = 0
    batch: deque[StoredEvent] = field(default_factory=deque)
    attempts: int = 0
    busy: bool = False  # being posted, or waiting in the due heap

    def has_work(self) -> bool:
        return bool(self.batch) or self.read_seq < self.known_seq


class WebhookDeliverer:
    """Delivers the bot messages of every conversation that has a webhook (`Transferred.deliver_to`).

    `signing_secret(client_id)` gives the `whsec_` secret of the API client
    that handed a conversation over (`Transferred.client_id`, None for
    conversations from before clients); None means it has none, and its
    messages are refused. It is asked at every POST, so a new secret applies
    at once. `clock` gives the Unix time signed into each POST; `backoff`
    decides the waits between retries and `retry_clock` their due times, and
    when the tail's position is next recorded (pass a small backoff, or a
    simulated clock, in tests). Each message is
    delivered at least once; after a crash, only the one in flight may come twice.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        signing_secret: Callable[[str | None], str | None],
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        retry_clock: Clock = SYSTEM_CLOCK,
        senders: int = 4,
        page_size: int = 500,
    ) -> None:
        self._store = store
        self._signing_secret = signing_secret
        self._clock = clock
        self._retry_clock = retry_clock
        self._timeout = timeout
        self._backoff = backoff
        self._senders = senders
        self._page_size = page_size
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
        """Read the log as it grows and queue what is owed; the durable tail follows at most every
        TAIL_CHECKPOINT_SECONDS (and when stopping), not after every page: under load every append
        woke it for a write transaction of its own, beside the store's. Behind is always safe: after
        a crash the tail reads those pages again, and queueing is idempotent (by seq)."""
        assert self._checkpoints is not None
        durable = position = self._checkpoints.tail_position()
        owed: set[str] = set()  # conversations seen owing since `durable`
        written_at = self._retry_clock.monotonic()
        while not self._stopping.is_set():
            page = self._store.read_all(after_position=position, limit=self._page_size)
            if page:
                owed |= {conversation_id_of(stored) for stored in page if self._queue(stored)}
                position = page[-1].position
            due = written_at + TAIL_CHECKPOINT_SECONDS - self._retry_clock.monotonic()
            if position != durable and (due <= 0 or len(page) == self._page_size):
                if self._record_tail(position, owed):
                    durable, owed, written_at = position, set(), self._retry_clock.monotonic()
                continue
            if not page:
                wait = TAIL_WAIT_SECONDS if position == durable else min(TAIL_WAIT_SECONDS, max(due, 0.0))
                self._store.wait_for_position(position, timeout=wait)
        if position != durable:
            self._record_tail(position, owed)

    def _record_tail(self, position: int, owed: set[str]) -> bool:
        """The tail is durable up to `position`, with a row for each conversation `owed`; False if not."""
        assert self._checkpoints is not None
        try:
            self._checkpoints.scanned(position, owed)
        except sqlite3.Error:
            # The next try writes the same (or more): nothing queued is lost meanwhile.
            log.exception("could not record the delivery tail; trying again")
            self._stopping.wait(TAIL_WAIT_SECONDS)
            return False
        return True

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
                self._schedule(outbox, self._retry_clock.monotonic())
        return True

    def _open_outbox(self, conversation_id: str) -> _Outbox | None:
        """The conversation's outbox, starting after what the checkpoint says was delivered."""
        assert self._checkpoints is not None
        try:
            url, client_id, worker_id = self._webhook_of(conversation_id)
        except EventDecodeError as error:
            # One conversation this code cannot read (a newer schema, a damaged event) must not stop the tail.
            log.warning("the Transferred event of conversation %s cannot be read (%s); its messages are not posted",
                        conversation_id, type(error).__name__)
            url, client_id, worker_id = "", None, None
        delivered_seq, handed_back = self._checkpoints.progress(conversation_id)
        with self._changed:
            if not url or handed_back:
                self._ignored.add(conversation_id)
                return None
            outbox = _Outbox(conversation_id, url, client_id, worker_id, read_seq=delivered_seq)
            return self._outboxes.setdefault(conversation_id, outbox)

    def _webhook_of(self, conversation_id: str) -> tuple[str, str | None, str | None]:
        """The conversation's webhook URL ("" for none), the API client that handed it over, its worker."""
        first = self._store.read_stream(conversation_stream(conversation_id), until_seq=1)
        transferred = decode(first[0].data) if first else None
        if not isinstance(transferred, Transferred):
            return "", None, None
        return transferred.deliver_to, transferred.client_id, transferred.worker_id

    def _schedule(self, outbox: _Outbox, due: float) -> None:
        outbox.busy = True
        heapq.heappush(self._due, (due, next(self._order), outbox.conversation_id))
        self._changed.notify()

    def _send(self) -> None:
        while True:
            outbox = self._next_due()
            if outbox is None:
                return
            # Every line logged while delivering to a conversation's webhook names the conversation and worker.
            with bound_contextvars(conversation_id=outbox.conversation_id, worker_id=outbox.worker_id):
                self._send_next(outbox)

    def _send_next(self, outbox: _Outbox) -> None:
        try:
            if not outbox.batch:
                self._read_batch(outbox)
                if not outbox.batch:
                    self._idle(outbox)
                    return
            stored = outbox.batch[0]
            outcome = self._attempt(outbox, stored)
        except Exception:
            # A bug or a store hiccup, for this conversation only: it waits its backoff, the sender goes on.
            log.exception("unexpected error delivering to the webhook of conversation %s; will retry",
                          outbox.conversation_id)
            with self._changed:
                self._retry_later(outbox)
            return
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
                self._schedule(outbox, self._retry_clock.monotonic())

    def _next_due(self) -> _Outbox | None:
        with self._changed:
            while not self._stopping.is_set():
                now = self._retry_clock.monotonic()
                if self._due and self._due[0][0] <= now:
                    _, _, conversation_id = heapq.heappop(self._due)
                    return self._outboxes[conversation_id]
                self._retry_clock.wait(self._changed, self._due[0][0] - now if self._due else None)
            return None

    def _retry_later(self, outbox: _Outbox) -> None:
        """Call with `_changed` held."""
        outbox.attempts += 1
        self._retries += 1
        self._schedule(outbox, self._retry_clock.monotonic() + self._backoff.delay(outbox.attempts))

    def _after(self, outbox: _Outbox, stored: StoredEvent, outcome: Outcome) -> None:
        with self._changed:
            if outcome is Outcome.RETRY:
                self._retry_later(outbox)
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
                self._schedule(outbox, self._retry_clock.monotonic())

    def _attempt(self, outbox: _Outbox, stored: StoredEvent) -> Outcome:
        """Post one message; a message that can never be posted is refused here, with its reason logged."""
        try:
            return self._post(outbox, stored)
        except Undeliverable as reason:
            log.warning("webhook of conversation %s cannot take %s: %s; refused, not retried",
                        outbox.conversation_id, delivery_id(outbox.conversation_id, stored.seq), reason)
            return Outcome.REFUSED

    def _post(self, outbox: _Outbox, stored: StoredEvent) -> Outcome:
        message = bot_message(stored)
        _check_url(outbox.url)
        secret = self._signing_secret(outbox.client_id)
        if secret is None:
            raise Undeliverable(f"no signing secret for API client {outbox.client_id!r}")
        body = json.dumps(message, separators=(",", ":")).encode()
        try:
            signed = signature_headers(secret, message["Id"], body, timestamp=int(self._clock()))
        except BadSecret as error:
            raise Undeliverable(f"the signing secret of API client {outbox.client_id!r} is unusable: {error}") from None
        headers = {"Content-Type": "application/json", **signed}
        try:
            answer = post(outbox.url, body, headers, self._timeout)
        except UnicodeError:
            raise Undeliverable("its host name cannot be encoded (IDNA)") from None
        except (ValueError, http.client.InvalidURL) as error:
            # Raised before anything is sent, from what this message's request is made of: the same every time.
            raise Undeliverable(f"no request can be made of its URL and headers ({type(error).__name__})") from None
        except (OSError, http.client.HTTPException) as error:
            log.info("webhook unreachable for %s (%s); will retry", message["Id"], type(error).__name__)
            return Outcome.RETRY
        if answer.status < 300:
            return Outcome.DELIVERED
        if answer.status >= 500 or answer.status in RETRIED_CLIENT_ERRORS:
            log.info("webhook answered %s with HTTP %d; will retry", message["Id"], answer.status)
            return Outcome.RETRY
        log.warning("webhook refused %s with HTTP %d; not retried", message["Id"], answer.status)
        return Outcome.REFUSED


def _check_url(url: str) -> None:
    """Raise `Undeliverable` if `url` is not one to post to (the reason never quotes it: it may hold a credential)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # a port that is not a number raises ValueError
    except ValueError:
        raise Undeliverable("its URL cannot be parsed") from None
    if parts.scheme not in ("http", "https"):
        raise Undeliverable("its URL is not http(s)")
    if not parts.hostname:
        raise Undeliverable("its URL has no host")
