"""Moves the write-ahead log into the database file, off the writers' path.

SQLite's automatic checkpoint runs inside whichever commit pushes the WAL
past 1,000 pages: that commit copies the pages back and fsyncs the database
file before it returns, and every append batched behind it waits (the load
benchmark saw the bots' API stall for over a second at such moments). So the
connections that write never checkpoint (`PRAGMA wal_autocheckpoint=0`), and
this thread runs a PASSIVE checkpoint on a connection of its own, at most
once per `interval` and only after commits. A PASSIVE checkpoint takes no
lock that a writer or reader waits for; what it cannot copy yet (frames a
reader still uses) is copied the next time.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0


def without_automatic_checkpoints(conn: sqlite3.Connection) -> sqlite3.Connection:
    """For every connection that writes to the store's file: its commits never checkpoint."""
    conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


class Checkpointer:
    def __init__(self, connect: Callable[[], sqlite3.Connection], interval: float = INTERVAL_SECONDS) -> None:
        self._connect = connect
        self._interval = interval
        self._committed = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-checkpointer", daemon=True)

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def committed(self) -> None:
        """Something was committed: a checkpoint is due at the next interval."""
        self._committed.set()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = self._connect()
        try:
            while not self._stopping.wait(self._interval):
                if self._committed.is_set():
                    self._committed.clear()
                    self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as error:
            # The next commit asks again; the WAL only grows meanwhile.
            log.warning("WAL checkpoint failed: %s", error)
            self._committed.set()
