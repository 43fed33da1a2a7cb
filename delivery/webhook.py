"""Posts every bot message to its conversation's webhook: in order per conversation, signed, retried.

    deliverer = WebhookDeliverer(store, signing_secret=lambda client_id: "whsec_...")
    deliverer.start()
    ...
    deliverer.stop()

One tail thread follows the log from the durable checkpoint: the store hands it each commit's events
in memory (delivery/handoff.py), and it reads the log only for what it was not handed. It puts each
bot message in its conversation's outbox while the outbox holds everything before it, and otherwise
tells the outbox how far its stream goes. An outbox due now goes to a sender (a thread of an elastic
pool) at once; one due later (a retry's backoff) waits on the due thread until then. The sender posts
its next message, reading the stream only for what it was not given. A conversation has at most one
POST in flight, so its messages arrive in stream order; a conversation whose webhook fails waits for
its backoff without holding a sender, so the others go on.

No bot's webhook can hold up another bot's messages: an API client has at most `per_client` POSTs in
flight at once (its further due conversations wait their turn, in order), and the pool makes a sender
for every other due POST, up to `senders`. So a bot whose webhook answers slowly, or never finishes
answering, holds at most `per_client` senders, and only its own conversations wait; it takes
`senders / per_client` such bots at once (8 with the defaults) before any other bot's messages wait
for a sender. `stop` waits for the POSTs in flight up to the HTTP timeout, then leaves them: a message
whose POST had not ended is posted again at the next start, under the same id.

With several nodes on one DynamoDB log (`leases`), a node posts only the conversations of the API
clients whose delivery leases it holds (delivery/ownership.py), its checkpoints in the table and fenced
by those leases (delivery/table_checkpoints.py); the others' conversations it only records as owed.

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

from botocore.exceptions import BotoCoreError, ClientError
from structlog.contextvars import bound_contextvars

from delivery.checkpoint import Checkpoints
from delivery.handoff import Handoff
from delivery.messages import HANDBACK_TYPE, bot_message, conversation_id_of, delivery_id, is_for_the_bot
from delivery.ownership import DeliveryLeases
from delivery.signature import BadSecret, signature_headers
from delivery.table_checkpoints import DeliveryFenced, TableCheckpoints
from events import EventDecodeError, decode
from events.conversation_events import Transferred
from net import post
from retry import SYSTEM_CLOCK, Backoff, Clock
from store.committed import CommittedBatch
from store.conversations import conversation_stream
from store.event_store import EventStore
from store.records import StoredEvent
from threads.task_pool import TaskPool

log = logging.getLogger(__name__)

RETRIED_CLIENT_ERRORS = frozenset({408, 429})
DEFAULT_BACKOFF = Backoff(first=0.5, cap=60.0)
HELD = 200  # bot messages an outbox holds in memory at most (handed by the tail, or read from its stream)
SENDERS = 64  # POSTs in flight at most, all bots together (the pool's threads)
# POSTs in flight at most for one API client: as many as the connections kept to one host
# (net.http.CONNECTIONS_PER_HOST), so that a bot's webhook host finds its connections kept.
PER_CLIENT = 8
# What is kept of a webhook's answer: nothing of it is used, and a bot must not fill the service's memory.
ANSWER_BYTES = 4_096
LAG_REFRESH_SECONDS = 0.25  # how old the per-client lag `lag()` answers with may be
TAIL_WAIT_SECONDS = 0.1  # also how long stop() may wait for the tail
TAIL_CHECKPOINT_SECONDS = 1.0  # how far the durable tail may lag behind what the tail has read
# What a failed checkpoint write may raise: the SQLite file's, or (in a cluster) DynamoDB's.
CHECKPOINT_ERRORS = (sqlite3.Error, BotoCoreError, ClientError)


class _NotOwed:
    """`_queue`'s answer for an event that is no message to post."""


NOT_OWED = _NotOwed()


class Outcome(Enum):
    DELIVERED = "delivered"
    REFUSED = "refused"  # permanent: not retried, the conversation goes on with its next message
    RETRY = "retry"


class Undeliverable(Exception):
    """This message can never be posted as it stands; the text says why (never the URL or a secret)."""


@dataclass(frozen=True)
class DeliveryStats:
    """`stream_reads`: reads of a conversation's stream by a sender, for what the tail could not hand
    it (after a start, past `held`, or once it fell behind); `log_reads`: pages of the log the tail read,
    for what the store did not hand it."""

    delivered: int
    refused: int
    retries: int
    stream_reads: int = 0
    log_reads: int = 0


@dataclass
class _Outbox:
    """A conversation's place in delivery: the messages in `batch` are everything of its stream up to
    `read_seq` not yet delivered, and the stream holds more up to `known_seq`.

    While `read_seq` is `known_seq`, the tail appends the message it was handed to `batch` (up to
    `held`); otherwise it only raises `known_seq`, and the sender that owns the outbox reads the stream
    after `read_seq` into `batch`. So a conversation whose webhook is down costs at most `held`
    messages in memory, then a number. `owed_since` is when the oldest message not yet delivered was
    recorded: exact for a message in `batch`; for one still to be read, the time of the message before
    it (never later than its own); after a restart, the time the deliverer started.
    """

    conversation_id: str
    url: str
    client_id: str | None  # whose signing secret the POSTs carry
    worker_id: str | None  # for the log lines
    read_seq: int
    known_seq: int
    batch: deque[StoredEvent] = field(default_factory=deque)
    attempts: int = 0
    busy: bool = False  # being posted, or waiting in the due heap
    owed_since: float | None = None

    def has_work(self) -> bool:
        return bool(self.batch) or self.read_seq < self.known_seq


class WebhookDeliverer:
    """Delivers the bot messages of every conversation that has a webhook (`Transferred.deliver_to`).

    `signing_secret(client_id)` gives the `whsec_` secret of the API client
    that handed a conversation over (`Transferred.client_id`, None for
    conversations from before clients); None means it has none, and its
    messages are refused. It is asked at every POST (the service passes
    `store.clients.SigningSecrets`, which asks the registry once a client).
    `clock` gives the Unix time signed into each POST; `backoff`
    decides the waits between retries and `retry_clock` their due times, and
    when the tail's position is next recorded (pass a small backoff, or a
    simulated clock, in tests). Each message is
    delivered at least once; after a crash, only the one in flight may come twice. `held`: how many
    messages an outbox keeps in memory at most; `lag(client_id)` how far delivery is behind for a client.
    `senders`: POSTs in flight at most, all clients together; `per_client`: at most for one API client.
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
        senders: int = SENDERS,
        per_client: int = PER_CLIENT,
        page_size: int = 500,
        held: int = HELD,
        lag_refresh: float = LAG_REFRESH_SECONDS,
        leases: DeliveryLeases | None = None,
        known_clients: Callable[[], list[str]] = list,
    ) -> None:
        self._store = store
        self._signing_secret = signing_secret
        self._clock = clock
        self._retry_clock = retry_clock
        self._timeout = timeout
        self._backoff = backoff
        self._senders = senders
        self._per_client = per_client
        self._page_size = page_size
        self._held = held
        self._lag_refresh = lag_refresh
        self._lags: dict[str | None, float] = {}
        self._lags_at = -float("inf")
        self._handoff = Handoff()
        self._followed = False  # whether the store hands its commits (EventStore.follow)
        self._checkpoints: Checkpoints | None = None
        self._outboxes: dict[str, _Outbox] = {}
        self._ignored: set[str] = set()  # no webhook, or already handed back
        self._due: list[tuple[float, int, _Outbox]] = []
        self._order = itertools.count()
        lock = threading.RLock()
        self._changed = threading.Condition(lock)
        self._drained = threading.Condition(lock)  # stop() waits on it for the POSTs in flight to end
        self._pool: TaskPool | None = None
        self._posting: dict[str | None, int] = {}  # API client -> its POSTs in flight (given to a sender)
        self._turns: dict[str | None, deque[_Outbox]] = {}  # API client -> outboxes due, waiting for a turn
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._delivered = self._refused = self._retries = self._stream_reads = self._log_reads = 0
        # In a cluster: this node's delivery leases, the checkpoints in the table, every API client's id
        # (whose leases it looks for), the conversations of clients another node delivers for (id ->
        # client), the clients found held elsewhere since the last pass, and those to adopt on the tail.
        self._leases = leases
        self._known_clients = known_clients
        self._table: TableCheckpoints | None = None
        self._elsewhere: dict[str, str | None] = {}
        self._foreign: set[str | None] = set()
        self._adopting: set[str | None] = set()

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("WebhookDeliverer already started")
        self._stopping.clear()
        self._pool = TaskPool(self._senders, name="delivery-sender")
        self._checkpoints = Checkpoints(self._store.path)
        # Followed before anything is read: what is committed from now on is handed, what was before is read.
        # A log that cannot be followed (one without `follow`) is read as it grows instead.
        follow = getattr(self._store, "follow", None)
        self._followed = follow is not None
        if follow is not None:
            follow(self._handoff)
        if self._leases is not None:
            self._table = TableCheckpoints(self._store.client, self._store.table)
            for client_id in [None, *self._known_clients()]:
                self._owns(client_id)  # the bots no live node delivers for, each with what it is owed
        else:
            self._requeue_owed(self._checkpoints)
        self._threads = [
            threading.Thread(target=self._tail, name="delivery-tail", daemon=True),
            threading.Thread(target=self._wait_for_due, name="delivery-due", daemon=True),
        ]
        if self._leases is not None:
            self._threads.append(threading.Thread(target=self._hold_leases, name="delivery-leases", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stops tailing; POSTs in flight finish and are checkpointed, those still under way after the
        HTTP timeout are left (a webhook that keeps answering slowly must not hold the stop)."""
        self._stopping.set()
        if self._followed:
            self._store.unfollow(self._handoff)
        self._handoff.wake()
        with self._changed:
            self._changed.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads = []
        self._handoff.take(timeout=0)
        with self._changed:
            if not self._drained.wait_for(lambda: not self._posting, timeout=self._timeout):
                log.warning("%d webhook POSTs still under way after %s s; their messages are posted again at the next start",
                            sum(self._posting.values()), self._timeout)
            self._outboxes.clear()
            self._turns.clear()
            self._due.clear()
            self._elsewhere.clear()
            self._lags, self._lags_at = {}, -float("inf")
        if self._leases is not None:
            try:
                self._leases.release_all()  # after the last POST: another node takes the bots over now
            except Exception:  # noqa: BLE001 - they run out by themselves within the lease time
                log.warning("delivery leases not released; they expire by themselves", exc_info=True)
        if self._checkpoints is not None:
            self._checkpoints.close()
            self._checkpoints = None

    def stats(self) -> DeliveryStats:
        with self._changed:
            return DeliveryStats(
                self._delivered, self._refused, self._retries, self._stream_reads, self._log_reads
            )

    def lag(self, client_id: str | None) -> float:
        """How long (seconds) the oldest message due to a conversation of this API client has waited
        since it was recorded: 0 when none waits. Messages waiting for their webhook's retry (after a
        failure) do not count: a bot whose webhook is down or refusing is late by its own doing, and
        its backlog must not make this or any other client look behind. At most `lag_refresh`
        seconds old: one pass over the outboxes serves every client until then."""
        return self.lags().get(client_id, 0.0)

    def lags(self) -> dict[str | None, float]:
        """`lag` of every client with a message due (the others' is 0)."""
        with self._changed:
            now = self._retry_clock.monotonic()
            if now - self._lags_at >= self._lag_refresh:
                self._lags, self._lags_at = self._measure_lags(), now
            return self._lags

    def _measure_lags(self) -> dict[str | None, float]:
        """Call with `_changed` held. A new dict each time: `lags` hands it out."""
        now = self._clock()
        lags: dict[str | None, float] = {}
        for outbox in self._outboxes.values():
            if outbox.owed_since is not None and outbox.attempts == 0:
                waited = max(0.0, now - outbox.owed_since)
                lags[outbox.client_id] = max(lags.get(outbox.client_id, 0.0), waited)
        return lags

    def _requeue_owed(self, checkpoints: Checkpoints) -> None:
        for conversation_id, _ in checkpoints.owed():
            self._owe(conversation_id, self._store.stream_version(conversation_stream(conversation_id)))

    def _tail(self) -> None:
        """Follow the log and queue what is owed: the events of each commit as the store hands them,
        and, from the log itself, whatever lies before a handed batch's first position and was not
        handed (written before the deliverer started, dropped by the hand-off when the tail was too far
        behind, written by another process), and whatever comes when nothing is handed for
        TAIL_WAIT_SECONDS. `position` is always the last position queued: every event up to it is, none
        after, so nothing is skipped or queued twice, whichever way it came.

        The durable tail follows at most every TAIL_CHECKPOINT_SECONDS (and when stopping, and after
        each full page read while catching up), not after every commit: under load it would cost a
        write transaction of its own for each of the store's. Behind is always safe: after a crash the
        tail reads those pages again, and queueing is idempotent (by seq)."""
        assert self._checkpoints is not None
        start = self._checkpoints.tail_position()
        tail = _TailPlace(position=start, durable=start, written_at=self._retry_clock.monotonic())
        catching_up = True  # read the log until a page is not full, without waiting for a hand-off
        while not self._stopping.is_set():
            self._adopt_taken()
            batches = self._handed(tail, timeout=0 if catching_up else TAIL_WAIT_SECONDS)
            if not batches:
                catching_up = self._read_log(tail, until=None)
            for batch in batches:
                if batch.last_position <= tail.position:
                    continue
                if batch.first_position > tail.position + 1 and not self._read_log(tail, batch.first_position - 1):
                    break  # stopping
                self._scanned(tail, batch.events(after_position=tail.position))
            self._maybe_record(tail, force=False)
        if tail.position != tail.durable:
            self._record_tail(tail.position, tail.owed)

    def _owns(self, client_id: str | None) -> bool:
        """Whether this node delivers for the client: always, alone; in a cluster, while it holds the
        client's delivery lease, taken now if no live node holds it (and then every conversation the
        client is owed is queued here, from its checkpoint). On the tail's thread (or before it starts)."""
        if self._leases is None or self._leases.held(client_id) is not None:
            return True
        if client_id in self._foreign or self._leases.take(client_id) is None:
            with self._changed:
                self._foreign.add(client_id)  # asked again at the next pass of the leases
            return False
        self._adopt(client_id)
        return True

    def _adopt(self, client_id: str | None) -> None:
        """This node has just taken the client's delivery lease: queue each of its conversations owed
        something (by the table, or seen here while another node delivered them) up to its stream's
        end, from its checkpoint. On the tail's thread, so that no handed event gets in between."""
        assert self._table is not None
        with self._changed:
            seen = [cid for cid, client in self._elsewhere.items() if client == client_id]
            for conversation_id in seen:
                del self._elsewhere[conversation_id]
        for conversation_id in dict.fromkeys([*self._table.owed(client_id), *seen]):
            self._owe(conversation_id, self._store.stream_version(conversation_stream(conversation_id)))

    def _adopt_taken(self) -> None:
        """On the tail's thread: adopt the clients whose leases the leases' thread took."""
        if self._leases is None:
            return
        with self._changed:
            taken, self._adopting = self._adopting, set()
        for client_id in taken:
            self._adopt(client_id)

    def _lose(self, client_id: str | None) -> None:
        """Another node delivers for the client now: its outboxes go (a POST in flight finishes, and its
        checkpoint is refused by the fence); what the tail sees of its conversations is only owed here."""
        assert self._leases is not None
        self._leases.lost(client_id)
        with self._changed:
            for conversation_id, outbox in list(self._outboxes.items()):
                if outbox.client_id == client_id:
                    del self._outboxes[conversation_id]
                    self._elsewhere[conversation_id] = client_id

    def _hold_leases(self) -> None:
        """The leases' thread, in a cluster: a pass every `renew_seconds`."""
        assert self._leases is not None
        while not self._stopping.wait(self._leases.renew_seconds):
            try:
                self.lease_pass()
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.exception("delivery leases: a pass failed; trying again")

    def lease_pass(self) -> None:
        """One pass of the leases' thread (tests call it with the lease table's clock moved): renew this
        node's delivery leases and stop delivering for those lost, then take the lease of each client no
        live node delivers for; the tail then adopts it (`_adopt`)."""
        assert self._leases is not None
        for client_id in self._leases.renew():
            log.warning("delivery lease of API client %s lost; its conversations are delivered elsewhere", client_id)
            self._lose(client_id)
        with self._changed:
            candidates = {None, *self._elsewhere.values(), *self._foreign}
            self._foreign = set()
        candidates |= set(self._known_clients())
        for client_id in candidates:
            if self._leases.held(client_id) is None and self._leases.take(client_id) is not None:
                with self._changed:
                    self._adopting.add(client_id)
        self._handoff.wake()

    def _handed(self, tail: _TailPlace, timeout: float) -> list[CommittedBatch]:
        """The batches the store handed since the last call, waiting up to `timeout` for one; from a
        store that hands none, [] once the log has grown past the tail (or `timeout` passed)."""
        if self._followed:
            return self._handoff.take(timeout)
        if timeout > 0:
            self._store.wait_for_position(tail.position, timeout)
        return []

    def _read_log(self, tail: _TailPlace, until: int | None) -> bool:
        """Queue the log's events after the tail up to `until` (None: one page); True if `until` was
        reached (or, for one page, if the page was full: there is more to read)."""
        while not self._stopping.is_set():
            page = self._store.read_all(after_position=tail.position, limit=self._page_size)
            self._log_reads += 1
            self._scanned(tail, page)
            full = len(page) == self._page_size
            if full:
                self._maybe_record(tail, force=True)
            if until is None:
                return full
            if tail.position >= until:
                return True
            if not page:
                # Positions up to `until` are committed (a later commit was handed), but the log does not
                # show them yet: on DynamoDB another node's transaction may not be readable at once
                # (docs/dynamodb-store.md). Wait for them; skipping them would lose their messages.
                self._store.wait_for_position(tail.position, TAIL_WAIT_SECONDS)
        return False

    def _scanned(self, tail: _TailPlace, events: list[StoredEvent]) -> None:
        if events:
            for stored in events:
                client_id = self._queue(stored)
                if client_id is not NOT_OWED:
                    tail.owed[conversation_id_of(stored)] = client_id
            tail.position = events[-1].position

    def _maybe_record(self, tail: _TailPlace, *, force: bool) -> None:
        due = tail.written_at + TAIL_CHECKPOINT_SECONDS <= self._retry_clock.monotonic()
        if tail.position != tail.durable and (force or due) and self._record_tail(tail.position, tail.owed):
            tail.durable, tail.owed, tail.written_at = tail.position, {}, self._retry_clock.monotonic()

    def _record_tail(self, position: int, owed: dict[str, str | None]) -> bool:
        """The tail is durable up to `position`, with a checkpoint for each conversation `owed` (id ->
        API client): in the SQLite file, or in a cluster in the table first; False if not."""
        assert self._checkpoints is not None
        try:
            if self._table is not None:
                self._table.ensure(owed)
                owed = {}
            self._checkpoints.scanned(position, owed)
        except CHECKPOINT_ERRORS:
            # The next try writes the same (or more): nothing queued is lost meanwhile.
            log.exception("could not record the delivery tail; trying again")
            self._stopping.wait(TAIL_WAIT_SECONDS)
            return False
        return True

    def _queue(self, stored: StoredEvent) -> str | None | _NotOwed:
        """Tell the conversation's outbox of a bot message; the conversation's API client, or NOT_OWED
        if it is not one to post."""
        if not is_for_the_bot(stored):
            return NOT_OWED
        conversation_id = conversation_id_of(stored)
        if stored.type == HANDBACK_TYPE and conversation_id in self._ignored:
            self._ignored.discard(conversation_id)  # its last event: nothing more to ignore
            return NOT_OWED
        if stored.type == HANDBACK_TYPE and conversation_id in self._elsewhere:
            with self._changed:  # its last event: owed (the tail records it so), then nothing more here
                return self._elsewhere.pop(conversation_id, None)
        return self._owe(conversation_id, stored.seq, stored)

    def _owe(self, conversation_id: str, seq: int, stored: StoredEvent | None = None) -> str | None | _NotOwed:
        """The conversation is owed what its stream holds up to `seq`: its API client; NOT_OWED if it has
        no webhook. In a cluster, one whose client's lease another node holds is owed, with no outbox here.
        `stored`, the message at `seq` when the tail has it in hand, goes into the outbox at once if
        everything before it is there (or delivered), so that no sender reads the stream for it.

        Why that is enough: the tail queues the log in position order, and a stream's seqs rise with
        positions, so when it hands an outbox seq N every message of that stream before N is one it
        queued earlier (in `batch` or counted in `known_seq`), or one from before the tail's durable
        position, which `start` put in `known_seq` (`_requeue_owed`) unless it was delivered.

        In a cluster that does not hold for an outbox opened here: the tail may meet a conversation
        mid-stream (after a restart, its earlier messages seen as another node's and never posted) just
        as the leases' thread takes its bot over, before the tail adopts it. So a new outbox in a
        cluster is told only how far its stream goes, and its sender reads it from the checkpoint."""
        with self._changed:
            outbox = self._outboxes.get(conversation_id)
            if outbox is None and conversation_id in self._elsewhere:
                return self._elsewhere[conversation_id]
        if outbox is None:
            if conversation_id in self._ignored:
                return NOT_OWED
            outbox = self._open_outbox(conversation_id)
            if outbox is None:
                with self._changed:
                    return self._elsewhere.get(conversation_id, NOT_OWED)
            if self._table is not None:
                stored = None  # in a cluster, from its checkpoint: see above
        with self._changed:
            if seq <= outbox.known_seq:
                return outbox.client_id  # already owed (the tail reads up to a second again after a restart)
            if not outbox.has_work():
                outbox.owed_since = stored.recorded_at if stored is not None else self._clock()
            if stored is not None and outbox.read_seq == outbox.known_seq and len(outbox.batch) < self._held:
                outbox.batch.append(stored)
                outbox.read_seq = seq
            outbox.known_seq = seq
            if not outbox.busy:
                self._schedule(outbox, self._retry_clock.monotonic())
        return outbox.client_id

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
        if url and not self._owns(client_id):
            with self._changed:
                self._elsewhere[conversation_id] = client_id
            return None
        if self._table is not None:
            delivered_seq, handed_back = self._table.progress(client_id, conversation_id)
        else:
            delivered_seq, handed_back = self._checkpoints.progress(conversation_id)
        with self._changed:
            if not url or handed_back:
                self._ignored.add(conversation_id)
                return None
            outbox = _Outbox(conversation_id, url, client_id, worker_id, read_seq=delivered_seq, known_seq=delivered_seq)
            return self._outboxes.setdefault(conversation_id, outbox)

    def _webhook_of(self, conversation_id: str) -> tuple[str, str | None, str | None]:
        """The conversation's webhook URL ("" for none), the API client that handed it over, its worker."""
        first = self._store.read_stream(conversation_stream(conversation_id), until_seq=1)
        transferred = decode(first[0].data) if first else None
        if not isinstance(transferred, Transferred):
            return "", None, None
        return transferred.deliver_to, transferred.client_id, transferred.worker_id

    def _schedule(self, outbox: _Outbox, due: float) -> None:
        """Call with `_changed` held. Due now: to a sender (or its client's turn); later: to the due
        thread. An outbox no longer this node's (its client's lease was lost) is not."""
        if not self._is_current(outbox):
            outbox.busy = False
            return
        outbox.busy = True
        if due <= self._retry_clock.monotonic():
            self._dispatch(outbox)
            return
        heapq.heappush(self._due, (due, next(self._order), outbox))
        self._changed.notify()

    def _dispatch(self, outbox: _Outbox) -> None:
        """Call with `_changed` held: give the due outbox to a sender, or, if its API client has
        `per_client` POSTs in flight, queue it for the client's next turn."""
        client_id = outbox.client_id
        if self._posting.get(client_id, 0) >= self._per_client:
            self._turns.setdefault(client_id, deque()).append(outbox)
            return
        assert self._pool is not None
        self._posting[client_id] = self._posting.get(client_id, 0) + 1
        self._pool.submit(lambda: self._send(outbox))

    def _send(self, outbox: _Outbox) -> bool:
        """A sender's task: post the outbox's next message, then give its API client's turn to the next
        of its conversations waiting for one."""
        try:
            if not self._stopping.is_set() and self._is_current(outbox):
                # Every line logged while delivering to a conversation's webhook names the conversation and worker.
                with bound_contextvars(conversation_id=outbox.conversation_id, worker_id=outbox.worker_id):
                    self._send_next(outbox)
        finally:
            with self._changed:
                self._end_turn(outbox.client_id)
                self._drained.notify_all()
        return False

    def _end_turn(self, client_id: str | None) -> None:
        """Call with `_changed` held: one POST of the client ended; its next waiting conversation goes."""
        self._posting[client_id] -= 1
        if not self._posting[client_id]:
            del self._posting[client_id]
        waiting = self._turns.get(client_id)
        while waiting and not self._stopping.is_set():
            outbox = waiting.popleft()
            if self._is_current(outbox):
                self._dispatch(outbox)
                break
        if not waiting:
            self._turns.pop(client_id, None)

    def _is_current(self, outbox: _Outbox) -> bool:
        """Whether the outbox is still its conversation's here. One dropped meanwhile (its client's lease
        lost, or the deliverer stopped) must not be posted from: the conversation may have a new outbox
        by now, in flight or queued itself, and two senders of one conversation would post its next
        message twice and take the one after it for delivered."""
        return self._outboxes.get(outbox.conversation_id) is outbox

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
            self._record(outbox, stored)
        self._after(outbox, stored, outcome)

    def _record(self, outbox: _Outbox, stored: StoredEvent) -> None:
        checkpoints = self._checkpoints
        if checkpoints is None:
            return  # a POST that outlasted stop(): posted again at the next start, under the same id
        conversation_id, handed_back = outbox.conversation_id, stored.type == HANDBACK_TYPE
        try:
            if self._leases is None:
                checkpoints.delivered(conversation_id, stored.seq, handed_back=handed_back)
                return
            assert self._table is not None
            fence = self._leases.held(outbox.client_id)
            if fence is None:
                raise DeliveryFenced(outbox.client_id)
            self._table.delivered(fence, outbox.client_id, conversation_id, stored.seq, handed_back=handed_back)
        except DeliveryFenced:
            # Another node delivers for this bot now, from the checkpoint: this message may reach it twice.
            log.warning("delivery lease of API client %s lost; its conversations are delivered elsewhere", outbox.client_id)
            self._lose(outbox.client_id)
        except CHECKPOINT_ERRORS:
            # Delivery goes on; only a restart before the next checkpoint would send this one again.
            log.exception("could not record the delivery of %s", delivery_id(conversation_id, stored.seq))

    def _read_batch(self, outbox: _Outbox) -> None:
        """Read into the (empty) batch what the tail could not hand: while `read_seq` is below
        `known_seq` the tail hands the outbox nothing, so nothing can come between."""
        with self._changed:
            start = outbox.read_seq
            until = min(outbox.known_seq, start + self._held)
        if until <= start:
            return
        stream = conversation_stream(outbox.conversation_id)
        stored = self._store.read_stream(stream, after_seq=start, until_seq=until)
        with self._changed:
            outbox.batch.extend(event for event in stored if is_for_the_bot(event))
            outbox.read_seq = until
            self._stream_reads += 1

    def _idle(self, outbox: _Outbox) -> None:
        with self._changed:
            outbox.busy = False
            if outbox.has_work():
                self._schedule(outbox, self._retry_clock.monotonic())
            else:
                outbox.owed_since = None

    def _wait_for_due(self) -> None:
        """The due thread: dispatch each outbox whose retry is due, as it comes due."""
        with self._changed:
            while not self._stopping.is_set():
                now = self._retry_clock.monotonic()
                if self._due and self._due[0][0] <= now:
                    _, _, outbox = heapq.heappop(self._due)
                    if self._is_current(outbox):
                        self._dispatch(outbox)
                    continue
                self._retry_clock.wait(self._changed, self._due[0][0] - now if self._due else None)

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
                self._outboxes.pop(outbox.conversation_id, None)
            elif outbox.has_work():
                # The next message is at most as old as the one just posted, when not in hand.
                outbox.owed_since = outbox.batch[0].recorded_at if outbox.batch else stored.recorded_at
                self._schedule(outbox, self._retry_clock.monotonic())
            else:
                outbox.owed_since = None

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
            answer = post(outbox.url, body, headers, self._timeout, answer_limit=ANSWER_BYTES)
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


@dataclass
class _TailPlace:
    """The tail's own place: the last position queued, the last one recorded as scanned (`durable`),
    when that was, and the conversations seen owing since (id -> API client)."""

    position: int
    durable: int
    written_at: float
    owed: dict[str, str | None] = field(default_factory=dict)
