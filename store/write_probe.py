"""Whether the event store's file can be written now, by writing to it: the service's readiness
(`GET /readyz`) asks.

    >>> probe = WriteProbe(store.path)
    >>> probe.check()        # None: a row was committed to disk; else why not, in SQLite's words
    >>> probe.close()

A probe is one small transaction in a table of its own (`write_probe`, one row, outside the log, so
exports and replays never see it) on a connection of its own, `synchronous=FULL` like the log: a probe
that succeeds went through the WAL's fsync, so a full disk, a read-only file system or an I/O error
show. It waits at most `busy_timeout` seconds for the write lock, which the store's writer holds for
one group commit at a time; a store locked longer than that is not writable now either.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from store.checkpointer import without_automatic_checkpoints

DEFAULT_BUSY_TIMEOUT = 1.0


class WriteProbe:
    def __init__(
        self, path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, clock: Callable[[], float] = time.time
    ) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def check(self) -> str | None:
        """None when a write was committed; else SQLite's reason (never the file's path)."""
        with self._lock:
            try:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute("CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL)")
                    conn.execute("INSERT OR REPLACE INTO write_probe VALUES (1, ?)", (self._clock(),))
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                self._drop()  # a connection that failed may be in any state: the next check opens anew
                return str(error)
        return None

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self._path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA synchronous=FULL")
            # The store's checkpointer moves the WAL into the database, off the probe's commits.
            self._conn = without_automatic_checkpoints(conn)
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None
