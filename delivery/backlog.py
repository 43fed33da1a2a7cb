"""How far webhook delivery is behind the log, with the service running or not: what `run.py status`
and the service's metrics show, on either log (the SQLite file's or a DynamoDB table).

    >>> reader = DeliveryBacklog(store)
    >>> reader.figures()
    DeliveryFigures(lag=0, backlog=[ClientBacklog(client_id='cl-0b5c...', conversations=1, messages=3, oldest_at=...)])

- **backlog**: per API client, the bot messages (the `FOR_THE_BOT` events) of its conversations with a
  webhook that are in the log after what the deliverer has recorded as delivered or refused
  (delivery/checkpoint.py): being posted, waiting for a retry, or not yet read. A conversation counts
  here once the deliverer's tail has seen it.
- **lag**: how many positions of the log the deliverer's tail has not scanned yet (the log's last
  position less the tail's, which is recorded at most once a second): up to a second of the log while
  it keeps up, 0 when the log is quiet; after a restart, what it has to read first. None
  when no deliverer ever ran on this store.

The tail's position and the conversations' checkpoints are in this node's SQLite file either way
(`delivery_tail`, `delivery_checkpoints`); the log's last position is the log's own
(`last_position`: the table's head with DynamoDB, whose events are not in the file).

With the log in the file, one query joins each conversation still owed something to its events after
its checkpoint (the events' (stream, seq) index), so a pass costs an index lookup per live conversation
with a webhook, whatever the log's length. With the log elsewhere (DynamoDB) a query per conversation
at every pass would cost a Query per live conversation every 2 s, so the reader remembers the bot
messages each owed conversation waits for (seq and time, until delivered): a conversation's are read
from its stream once, when it is first seen owed, and from then on the log is followed from where the
last pass stopped (`read_all`, what was appended since: as much as the deliverer itself reads). The
client of a conversation with a backlog is read once from its first event and remembered.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict

import msgspec

from delivery.messages import BOT_EVENT_TYPES, conversation_id_of, is_for_the_bot
from events import EventDecodeError, decode
from events.conversation_events import Transferred
from store.conversations import STREAM_PREFIX, conversation_stream
from store.event_log import EventLog
from store.event_store import EventStore
from store.records import StoredEvent

_TYPES = sorted(BOT_EVENT_TYPES)
_OWED = f"""
    SELECT c.conversation_id, count(*), min(e.recorded_at)
    FROM delivery_checkpoints AS c
    JOIN events AS e ON e.stream = ? || c.conversation_id AND e.seq > c.delivered_seq
    WHERE c.handed_back = 0 AND e.type IN ({", ".join("?" * len(_TYPES))})
    GROUP BY c.conversation_id
"""
# Events read a page at a time when the log is followed.
PAGE = 1000


class ClientBacklog(msgspec.Struct, frozen=True, kw_only=True):
    """`client_id` None: conversations from before API clients. `oldest_at`: when the oldest message
    waiting was recorded (Unix seconds)."""

    client_id: str | None
    conversations: int
    messages: int
    oldest_at: float


class DeliveryFigures(msgspec.Struct, frozen=True, kw_only=True):
    lag: int | None
    backlog: list[ClientBacklog]


class DeliveryBacklog:
    """Reads on a connection of its own to the file that never writes, and from `log`; safe to share
    between threads."""

    def __init__(self, log: EventLog) -> None:
        self._log = log
        self._events_in_file = isinstance(log, EventStore)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._clients: dict[str, str | None] = {}
        # The log followed (not in the file): the last position read, the owed conversations seen so far,
        # and the bot messages each one waits for (seq -> recorded_at), only those that wait for any.
        self._position: int | None = None
        self._known: set[str] = set()
        self._waiting: dict[str, dict[int, float]] = {}

    def figures(self) -> DeliveryFigures:
        with self._lock:
            conn = self._connection()
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"delivery_checkpoints", "delivery_tail"} <= tables:
                return DeliveryFigures(lag=None, backlog=[])
            # The tail first: it only moves up to the log's head, so a head read after it is never behind it.
            tail = conn.execute("SELECT position FROM delivery_tail WHERE id = 1").fetchone()
            if self._events_in_file:
                (head,) = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
                owed = conn.execute(_OWED, (STREAM_PREFIX, *_TYPES)).fetchall()
            else:
                head = self._log.last_position()
                owed = self._owed_in_log(conn, head)
            clients = {conversation_id: self._client_of(conversation_id) for conversation_id, _, _ in owed}
            self._clients = clients  # remember only the conversations that still wait
        lag = head - (tail[0] if tail else 0)
        return DeliveryFigures(lag=lag, backlog=_by_client(owed, clients))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self._log.path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA query_only=ON")
        return self._conn

    def _owed_in_log(self, conn: sqlite3.Connection, head: int) -> list[tuple[str, int, float]]:
        """(conversation id, messages waiting, when the oldest was recorded) of each conversation owed
        messages, its checkpoint from the file and its messages from the log (above)."""
        delivered: dict[str, int] = dict(
            conn.execute("SELECT conversation_id, delivered_seq FROM delivery_checkpoints WHERE handed_back = 0")
        )
        if self._position is not None:
            self._follow(head)
        else:
            self._position = head  # what comes after is followed; what came before, read below
        for conversation_id in delivered.keys() - self._known:
            self._known.add(conversation_id)
            stream = conversation_stream(conversation_id)
            for stored in self._log.read_stream(stream, after_seq=delivered[conversation_id]):
                self._note(stored)
        self._known.intersection_update(delivered)  # the others were handed back: owed nothing more
        for conversation_id, waiting in list(self._waiting.items()):
            after = delivered.get(conversation_id)
            left = {} if after is None else {seq: at for seq, at in waiting.items() if seq > after}
            if left:
                self._waiting[conversation_id] = left
            else:
                del self._waiting[conversation_id]
        return [(conversation_id, len(left), min(left.values())) for conversation_id, left in self._waiting.items()]

    def _follow(self, head: int) -> None:
        """Note the bot messages of the known conversations appended since the last pass, up to `head` at
        least (a page the log cannot show yet is read at the next pass: pages have no gaps)."""
        assert self._position is not None
        while self._position < head:
            page = self._log.read_all(self._position, PAGE)
            if not page:
                return
            for stored in page:
                if is_for_the_bot(stored) and conversation_id_of(stored) in self._known:
                    self._note(stored)
            self._position = page[-1].position

    def _note(self, stored: StoredEvent) -> None:
        if stored.type in BOT_EVENT_TYPES:
            self._waiting.setdefault(conversation_id_of(stored), {})[stored.seq] = stored.recorded_at

    def _client_of(self, conversation_id: str) -> str | None:
        if conversation_id in self._clients:
            return self._clients[conversation_id]
        first = self._log.read_stream(conversation_stream(conversation_id), until_seq=1)
        try:
            event = decode(first[0].data) if first else None
        except EventDecodeError:
            event = None  # counted as no client's: the deliverer cannot read it either
        return event.client_id if isinstance(event, Transferred) else None


def _by_client(owed: list[tuple[str, int, float]], clients: dict[str, str | None]) -> list[ClientBacklog]:
    conversations: dict[str | None, int] = defaultdict(int)
    messages: dict[str | None, int] = defaultdict(int)
    oldest: dict[str | None, float] = {}
    for conversation_id, waiting, oldest_at in owed:
        client = clients[conversation_id]
        conversations[client] += 1
        messages[client] += waiting
        oldest[client] = min(oldest.get(client, oldest_at), oldest_at)
    return [
        ClientBacklog(client_id=client, conversations=conversations[client], messages=messages[client],
                      oldest_at=oldest[client])
        for client in sorted(conversations, key=lambda client: client or "")
    ]
