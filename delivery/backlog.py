"""How far webhook delivery is behind the log, read from the store's file, with the service running
or not: what `run.py status` and the service's metrics show.

    >>> reader = DeliveryBacklog(store.path)
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

One query joins each conversation still owed something to its events after its checkpoint (the
events' (stream, seq) index), so a pass costs an index lookup per live conversation with a webhook,
whatever the log's length; the client of a conversation with a backlog is read once from its first
event and remembered.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from pathlib import Path

import msgspec

from delivery.messages import BOT_EVENT_TYPES
from events import EventDecodeError, decode
from events.conversation_events import Transferred
from store.conversations import STREAM_PREFIX

_TYPES = sorted(BOT_EVENT_TYPES)
_OWED = f"""
    SELECT c.conversation_id, count(*), min(e.recorded_at)
    FROM delivery_checkpoints AS c
    JOIN events AS e ON e.stream = ? || c.conversation_id AND e.seq > c.delivered_seq
    WHERE c.handed_back = 0 AND e.type IN ({", ".join("?" * len(_TYPES))})
    GROUP BY c.conversation_id
"""


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
    """Reads on a connection of its own that never writes; safe to share between threads."""

    def __init__(self, store_path: Path) -> None:
        self._path = store_path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._clients: dict[str, str | None] = {}

    def figures(self) -> DeliveryFigures:
        with self._lock:
            conn = self._connection()
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"delivery_checkpoints", "delivery_tail"} <= tables:
                return DeliveryFigures(lag=None, backlog=[])
            (head,) = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
            tail = conn.execute("SELECT position FROM delivery_tail WHERE id = 1").fetchone()
            owed = conn.execute(_OWED, (STREAM_PREFIX, *_TYPES)).fetchall()
            clients = {conversation_id: self._client_of(conn, conversation_id) for conversation_id, _, _ in owed}
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
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA query_only=ON")
        return self._conn

    def _client_of(self, conn: sqlite3.Connection, conversation_id: str) -> str | None:
        if conversation_id in self._clients:
            return self._clients[conversation_id]
        row = conn.execute(
            "SELECT data FROM events WHERE stream = ? AND seq = 1", (STREAM_PREFIX + conversation_id,)
        ).fetchone()
        try:
            first = decode(row[0]) if row else None
        except EventDecodeError:
            first = None  # counted as no client's: the deliverer cannot read it either
        return first.client_id if isinstance(first, Transferred) else None


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
