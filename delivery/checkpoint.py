"""The webhook deliverer's durable progress, in its own tables of the event store's SQLite file.

Why a table and not events in a `delivery-checkpoint` stream: the checkpoint
changes after every delivery and only its latest value matters. As events it
would grow without bound and cost a replay on every start; as a row it is one
small UPDATE, and on start one query lists the conversations still owed
something.

- `delivery_checkpoints`: per conversation with a webhook, the last seq
  delivered (or given up on a permanent refusal) and whether the hand-back
  was, after which the conversation is owed nothing more.
- `delivery_tail`: the global position up to which the log has been scanned.
  It moves only in the same transaction that creates the rows of the
  conversations seen in the scanned events, so every event before it is either
  delivered or owed by a row that is not handed back.

Its own connection, WAL like the store's, `synchronous=NORMAL`: a process
crash loses nothing committed; a power cut may lose the last updates, which
only means messages delivered again (the bot deduplicates by Id), never lost.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from store.checkpointer import without_automatic_checkpoints
from store.tables import ensure_tables

if TYPE_CHECKING:
    from sqlite_utils import Database

BUSY_TIMEOUT_MS = 10_000


def _make_tables(db: Database) -> None:
    db["delivery_checkpoints"].create(
        {"conversation_id": str, "delivered_seq": int, "handed_back": int},
        pk="conversation_id", not_null={"delivered_seq", "handed_back"}, if_not_exists=True,
    )
    db["delivery_tail"].create({"id": int, "position": int}, pk="id", not_null={"position"}, if_not_exists=True)


class Checkpoints:
    """Durable delivery progress. Open it on a file the `EventStore` has already created."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        # The store's checkpointer moves the WAL (this file's too) into the database, off our commits.
        without_automatic_checkpoints(self._conn)
        ensure_tables(self._conn, {"delivery_checkpoints", "delivery_tail"}, _make_tables)

    def tail_position(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT position FROM delivery_tail WHERE id = 1").fetchone()
        return 0 if row is None else row[0]

    def owed(self) -> list[tuple[str, int]]:
        """(conversation id, last seq delivered) of every conversation not yet handed back."""
        with self._lock:
            return self._conn.execute(
                "SELECT conversation_id, delivered_seq FROM delivery_checkpoints WHERE handed_back = 0"
            ).fetchall()

    def scanned(self, position: int, conversation_ids: Iterable[str]) -> None:
        """The log is scanned up to `position`; these conversations (new or not) are owed messages."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO delivery_checkpoints VALUES (?, 0, 0)",
                    ((conversation_id,) for conversation_id in conversation_ids),
                )
                self._conn.execute(
                    "INSERT INTO delivery_tail VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position",
                    (position,),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def progress(self, conversation_id: str) -> tuple[int, bool]:
        """(last seq delivered, handed back) of a conversation; (0, False) if nothing was yet."""
        with self._lock:
            row = self._conn.execute(
                "SELECT delivered_seq, handed_back FROM delivery_checkpoints WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
        return (0, False) if row is None else (row[0], bool(row[1]))

    def delivered(self, conversation_id: str, seq: int, *, handed_back: bool) -> None:
        """Record a delivery; an upsert, since a sender may get here before the tail's `scanned`."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO delivery_checkpoints VALUES (?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE "
                "SET delivered_seq = max(delivered_seq, excluded.delivered_seq), handed_back = excluded.handed_back",
                (conversation_id, seq, int(handed_back)),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
