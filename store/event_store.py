"""The append-only event log in one SQLite file."""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from store.checkpointer import Checkpointer, without_automatic_checkpoints
from store.commit_signal import CommitSignal
from store.committed import CommittedBatch
from store.observer import StoreObserver
from store.errors import CorruptDatabase, EventStoreClosed, StoreFileError
from store.append_arguments import check_expected_version, check_stream, checked_events
from store.group_commit import Append, GroupCommitWriter
from store.records import NewEvent, StoredEvent, StoreStats
from store.schema import Synchronous, prepare

if TYPE_CHECKING:
    from store.leases import Lease  # which imports boto3: the SQLite log does not need it at run time

BUSY_TIMEOUT_SECONDS = 10.0
IDLE_READERS = 8
# How often a waiting tail looks at the file for events that another process
# committed; events committed in this process wake it at once.
POLL_SECONDS = 0.05

_COLUMNS = "stream, seq, position, type, data, recorded_at"
_CORRUPTION_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}

log = logging.getLogger(__name__)

Follower = Callable[[CommittedBatch], None]


class EventStore:
    """Streams of events in one SQLite file, appended with optimistic concurrency.

    Example::

        with EventStore.open("data/events.db") as store:
            version = store.append("conversation-42", [NewEvent("Transferred", b"{}")], 0)
            for event in store.read_stream("conversation-42"):
                print(event.seq, event.type)

    Safe to share between threads. Appends from all threads are committed in
    batches by one writer thread; reads use their own connections and never
    wait for the writer. Several processes may open the same file.
    """

    def __init__(self, path: Path, writer_conn: sqlite3.Connection) -> None:
        """Use `EventStore.open`, which checks and migrates the file first."""
        self._path = path
        self._writer_conn = writer_conn
        self._idle_readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._closed = False
        self._submit_lock = threading.Lock()
        self._commits = CommitSignal()
        self._observer: StoreObserver | None = None
        self._followers: tuple[Follower, ...] = ()
        self._checkpointer = Checkpointer(lambda: _connect(path)).start()
        self._writer = GroupCommitWriter(
            without_automatic_checkpoints(writer_conn), self._note_commit, on_batch=self._note_batch
        )

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, synchronous: Synchronous = "FULL") -> EventStore:
        """Open the store at `path`, creating or migrating it.

        `synchronous="FULL"` (the default) fsyncs the WAL on every commit: an
        acknowledged append survives a power cut. `"NORMAL"` survives a crash
        of the process but may lose the last commits on a power cut. A file
        that is not an event store raises a `StoreFileError` and is left as it was.
        """
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        store_path = Path(path)
        _create_owner_only(store_path)
        conn = _connect(store_path)
        try:
            prepare(conn, store_path, synchronous)
        except BaseException:
            conn.close()
            raise
        return cls(store_path, conn)

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        """Commit the appends already submitted, then close every connection."""
        with self._submit_lock:
            if self._closed:
                return
            self._closed = True
        self._writer.stop()
        self._checkpointer.stop()
        while True:
            try:
                self._idle_readers.get_nowait().close()
            except queue.Empty:
                break
        # The last connection to close checkpoints the WAL into the main file.
        self._writer_conn.close()
        self._commits.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def append(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected_version: int,
        *,
        closes_stream: bool = False,
        fence: Lease | None = None,
    ) -> int:
        """Append `events` to `stream` and return the stream's new version once committed.

        `expected_version` is the number of events the caller believes the
        stream holds (0 for a new stream). If it holds another number,
        nothing is written and `ConcurrencyConflict` is raised. With
        `closes_stream` the stream is marked ended; appending to an ended
        stream raises `StreamClosed`. `fence` is refused (ValueError): this
        log is one node's, and leases live in the DynamoDB log's table.
        """
        if fence is not None:
            raise ValueError("a fenced append needs the DynamoDB log: the SQLite log is one node's and keeps no leases")
        check_stream(stream)
        check_expected_version(expected_version)
        append = Append(stream, checked_events(events), expected_version, closes_stream)
        began = time.monotonic()
        with self._submit_lock:
            if self._closed:
                raise EventStoreClosed(self._path)
            lead = self._writer.submit(append)
        if lead:  # nobody was committing: this thread commits it (outside the lock, so that others queue)
            self._writer.lead(append)
        version = append.wait()
        observer = self._observer
        if observer is not None:
            observer.appended(time.monotonic() - began)
        return version

    def read_stream(
        self, stream: str, *, after_seq: int = 0, until_seq: int | None = None
    ) -> list[StoredEvent]:
        """The events of `stream` with `after_seq < seq <= until_seq`, in order."""
        if until_seq is None:
            sql = f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND seq > ? ORDER BY seq"
            params: tuple[object, ...] = (stream, after_seq)
        else:
            sql = (
                f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND seq > ? AND seq <= ?"
                " ORDER BY seq"
            )
            params = (stream, after_seq, until_seq)
        with self._reader() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [StoredEvent(*row) for row in rows]

    def stream_version(self, stream: str) -> int:
        """The number of events in `stream` (0 if it does not exist)."""
        with self._reader() as conn:
            (version,) = conn.execute(
                "SELECT coalesce(max(seq), 0) FROM events WHERE stream = ?", (stream,)
            ).fetchone()
        return version

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Up to `limit` events of every stream after `after_position`, in commit order.

        Positions are handed out in commit order and a reader only ever sees
        whole commits, so a tail that remembers the last position it read
        never misses an event.
        """
        with self._reader() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
                (after_position, limit),
            ).fetchall()
        return [StoredEvent(*row) for row in rows]

    def last_position(self) -> int:
        """The position of the last committed event (0 if the store is empty)."""
        with self._reader() as conn:
            (position,) = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
        return position

    def wait_for_position(self, after: int, timeout: float) -> bool:
        """Wait until an event after position `after` is committed; False if `timeout` passes first.

        Commits made through this store wake the waiter at once; commits made
        by other processes are noticed within `POLL_SECONDS`.
        """
        return self._commits.wait_past(after, timeout, readable=lambda: self.last_position() > after, poll_seconds=POLL_SECONDS)

    def open_streams(self, prefix: str = "") -> list[str]:
        """The streams whose name starts with `prefix` and that are not closed, by name."""
        sql = "SELECT stream FROM streams WHERE closed_at IS NULL AND stream >= ?"
        params: tuple[str, ...] = (prefix,)
        if prefix:
            # Every name with the prefix sorts before the prefix with its last
            # character incremented, so the primary key serves the range.
            sql += " AND stream < ?"
            params = (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1))
        with self._reader() as conn:
            rows = conn.execute(sql + " ORDER BY stream", params).fetchall()
        return [stream for (stream,) in rows]

    def stream_versions(self, prefix: str) -> dict[str, int]:
        """The version of every stream whose name starts with `prefix` (closed ones too), by name:
        one query, so that a watcher can tell which of a few streams changed."""
        if not prefix:
            raise ValueError("stream_versions needs a prefix")
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        sql = "SELECT stream, max(seq) FROM events WHERE stream >= ? AND stream < ? GROUP BY stream"
        with self._reader() as conn:
            return dict(conn.execute(sql, (prefix, upper)).fetchall())

    def stats(self) -> StoreStats:
        """Counters of the group-commit writer, for benchmarks and health reports."""
        return self._writer.stats()

    def writer_running(self) -> bool:
        """Whether appends can be committed: the store is open and its writer thread is alive."""
        return not self._closed and self._writer.running()

    def watch(self, observer: StoreObserver | None) -> None:
        """Tell `observer` how long each append took and each batch's size from now on (None: stop);
        the running service's metrics watch it (metrics/)."""
        self._observer = observer

    def follow(self, follower: Follower) -> None:
        """Hand `follower` what each COMMIT of this store wrote from now on, on the thread that committed
        (the writer's, or the appending caller's: store/group_commit.py), right after the COMMIT and before
        the appends' callers are woken: the webhook deliverer's tail learns of new events without reading
        the log (delivery/README.md). The call must be quick (queue the batch, wake a thread) and must not
        block: the committer, and every append queued behind it, waits for it. Commits of other processes on the same
        file are not handed; a follower notices them by the gap in positions, or by reading the log."""
        with self._submit_lock:
            self._followers = (*self._followers, follower)

    def unfollow(self, follower: Follower) -> None:
        with self._submit_lock:
            self._followers = tuple(known for known in self._followers if known != follower)

    def _note_batch(self, appends: int, events: int, seconds: float) -> None:
        observer = self._observer
        if observer is not None:
            observer.committed(appends, events, seconds)

    def _note_commit(self, batch: CommittedBatch) -> None:
        self._checkpointer.committed()
        for follower in self._followers:
            try:
                follower(batch)
            except Exception:
                # The batch is committed: its callers must hear so, whatever a follower does.
                log.exception("a follower of the event store failed on a committed batch")
        self._commits.committed(batch.last_position)

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise EventStoreClosed(self._path)
        try:
            conn = self._idle_readers.get_nowait()
        except queue.Empty:
            conn = _connect(self._path)
            conn.execute("PRAGMA query_only=ON")
        try:
            yield conn
        except sqlite3.DatabaseError as error:
            if error.sqlite_errorcode in _CORRUPTION_CODES:
                raise CorruptDatabase(self._path, f"is damaged ({error})") from error
            raise
        finally:
            if self._closed or self._idle_readers.qsize() >= IDLE_READERS:
                conn.close()
            else:
                self._idle_readers.put(conn)


def _create_owner_only(path: Path) -> None:
    """Create a missing store file with mode 0600, whatever the umask: it holds participant tokens.

    SQLite creates the -wal and -shm files with the mode of the database file, so they follow. An
    existing file is left as it is.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise StoreFileError(path, f"cannot be created ({error.strerror})") from error
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise StoreFileError(path, f"cannot be opened ({error})") from error
