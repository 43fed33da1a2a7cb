"""Group commit: one transaction, hence one fsync of the WAL, for every append waiting at once.

Callers on any thread submit an `Append` and block until it is settled. Whoever commits takes the
first waiting append, opens a write transaction, then takes every append that is waiting by now: they
all share one COMMIT. Each append is checked against its stream's version on its own, so a conflicting
append is refused alone and the others of its batch still land. Nobody is released before the COMMIT.

Who commits: when nothing is being committed, the caller itself (`submit` answers True, and the
caller calls `lead`), so that an append nobody competes with costs no thread hand-off at all: the
relay's appends come one at a time, and handing each to a writer thread and being woken back cost two
wake-ups, most of an append's p99 where the fsync itself is cheap (bench/README.md, "Relay p99: the
GIL's switch interval, and appends without the writer's hand-offs"). Appends that come while a commit
is under way wait in the queue; the committer, once done, hands them to the writer's own thread,
which commits them in batches as before, for as long as they keep coming. The main thread never
commits itself (the writer's thread does it for it): a signal handler may raise there in the middle
of a transaction.

Callers are woken in a chain: the committer wakes the first caller of a batch and each caller, once
woken, wakes the next. Woken all at once, a thousand callers all queue for the GIL together, and that
queue's kernel time (futex waits and wake-ups, about eight voluntary context switches per append, most
likely many of them the GIL's 5 ms timed waits running out) was most of the CPU of a thousand
concurrent appends, more than SQLite. In a chain only a few threads want the GIL at any moment: about
two context switches per append, and a third of the CPU (bench/README.md). The main thread is never
in a chain (the committer wakes it itself): a signal handler may raise there while it waits, and it
would then never wake the next; nor is a caller that commits its own append (it is not waiting).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable

from store.committed import COLUMNS as _COLUMNS
from store.committed import CommittedBatch
from store.errors import ConcurrencyConflict, StoreWriteFailed, StreamClosed
from store.records import NewEvent, StoreStats

MAX_BATCH_EVENTS = 20_000
# The writer remembers the version of each open stream it has seen; past this
# many it forgets them all and reads them again when they are next written.
MAX_REMEMBERED_STREAMS = 100_000

_CLOSED = -1
# Who commits now: nobody, a caller in `lead`, or the writer's thread.
_NOBODY, _CALLER, _WRITER = 0, 1, 2

# The rows of a batch are inserted with one statement per chunk of these
# sizes, not one per row as executemany would: sqlite3 lets go of the GIL for
# each statement it steps, and with a thousand callers waking up, each time
# costs the writer a wait to get it back. Fixed sizes keep the statements in
# sqlite3's statement cache.
_INSERT_CHUNKS = (256, 64, 16, 4, 1)
_INSERT_SQL = {
    size: "INSERT INTO events (stream, seq, type, data, recorded_at) VALUES "
    + ", ".join(["(?, ?, ?, ?, ?)"] * size)
    for size in _INSERT_CHUNKS
}


class Append:
    """One caller's append, waiting for the writer to settle it."""

    __slots__ = (
        "stream",
        "events",
        "expected_version",
        "closes_stream",
        "_outcome",
        "_settled",
        "_chained",
        "_next",
    )

    def __init__(
        self, stream: str, events: tuple[NewEvent, ...], expected_version: int, closes_stream: bool
    ) -> None:
        self.stream = stream
        self.events = events
        self.expected_version = expected_version
        self.closes_stream = closes_stream
        self._outcome: int | BaseException = 0
        # A bare lock is the cheapest hand-off CPython has: the caller blocks
        # acquiring it, and whoever wakes it releases it once the outcome is set.
        self._settled = threading.Lock()
        self._settled.acquire()
        self._chained = threading.get_ident() != threading.main_thread().ident
        self._next: Append | None = None

    def wait(self) -> int:
        """Block until the append is committed or refused; the stream's new version."""
        self._settled.acquire()
        after = self._next
        if after is not None:
            after._settled.release()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome


def settle(batch: list[Append], outcomes: list[int | BaseException]) -> None:
    """Give each append of `batch` its outcome and wake its caller: the main thread's at once, the
    others one after the other, each woken caller waking the next (see the module's docstring)."""
    first: Append | None = None
    for append, outcome in zip(reversed(batch), reversed(outcomes)):
        append._outcome = outcome
        if append._chained:
            append._next = first
            first = append
        else:
            append._settled.release()
    if first is not None:
        first._settled.release()


class GroupCommitWriter:
    """Owns the write connection: commits on a caller's thread when nobody else is committing, else on
    its own thread. `on_commit` gets what each COMMIT wrote (its events and their positions), before the
    batch's callers are woken; `on_batch(appends, events, seconds)` each committed batch's size and how
    long its transaction took (BEGIN to the end of COMMIT, fsync included)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        on_commit: Callable[[CommittedBatch], None],
        on_batch: Callable[[int, int, float], None] = lambda appends, events, seconds: None,
    ) -> None:
        self._conn = conn
        self._on_commit = on_commit
        self._on_batch = on_batch
        self._pending: deque[Append] = deque()
        self._turn = threading.Condition(threading.Lock())  # guards `_pending`, `_committer`, `_stopping`
        self._committer = _NOBODY
        self._stopping = False
        self._versions: dict[str, int] = {}
        self._last_position: int | None = None  # the log's last position after our last commit
        self._appends = 0
        self._events = 0
        self._batches = 0
        self._thread = threading.Thread(target=self._run, name="event-store-writer", daemon=True)
        self._thread.start()

    def submit(self, append: Append) -> bool:
        """Queue `append`. True: nobody is committing, and the caller is to commit it now with
        `lead(append)` (never for the main thread, whose appends the writer's thread commits)."""
        with self._turn:
            self._pending.append(append)
            if self._committer != _NOBODY:
                return False  # the committer takes it next
            if append._chained:  # noqa: SLF001 - not the main thread
                self._committer = _CALLER
                return True
            self._committer = _WRITER
            self._turn.notify()
            return False

    def lead(self, append: Append) -> None:
        """On the caller whose `submit(append)` answered True: commit `append` (first in the queue) with
        whatever else waits, then hand what came meanwhile to the writer's thread. `append` is settled
        on return; the others of its batch are woken in a chain."""
        append._chained = False  # noqa: SLF001 - its caller is here, not waiting to be woken
        try:
            self._write_batch()
        finally:
            with self._turn:
                if self._pending:
                    self._committer = _WRITER
                    self._turn.notify()
                else:
                    self._committer = _NOBODY
                    if self._stopping:
                        self._turn.notify()

    def stop(self) -> None:
        """Commit what is queued, then end the writer's thread."""
        with self._turn:
            self._stopping = True
            self._turn.notify()
        self._thread.join()

    def running(self) -> bool:
        return self._thread.is_alive()

    def stats(self) -> StoreStats:
        with self._turn:
            queued = len(self._pending)
        return StoreStats(
            appends=self._appends,
            events=self._events,
            batches=self._batches,
            queued=queued,
        )

    def _run(self) -> None:
        """The writer's thread: commit while it is its turn; end once stopping and nobody commits."""
        while True:
            with self._turn:
                while self._committer != _WRITER:
                    if self._stopping and self._committer == _NOBODY:
                        return
                    self._turn.wait()
            self._write_batch()
            with self._turn:
                if not self._pending:
                    self._committer = _NOBODY

    def _write_batch(self) -> None:
        """Commit the first waiting append and those waiting once the transaction has begun (the
        committer's turn held)."""
        with self._turn:
            batch = [self._pending.popleft()]
        try:
            began = time.monotonic()
            self._conn.execute("BEGIN IMMEDIATE")
            self._take_waiting(batch)
            self._commit(batch, began)
        except Exception as error:
            self._fail(batch, error)

    def _take_waiting(self, batch: list[Append]) -> None:
        """Add the appends waiting now to `batch`, up to MAX_BATCH_EVENTS events."""
        size = len(batch[0].events)
        with self._turn:
            while size < MAX_BATCH_EVENTS and self._pending:
                append = self._pending.popleft()
                batch.append(append)
                size += len(append.events)

    def _commit(self, batch: list[Append], began: float) -> None:
        conn = self._conn
        # Only events move a stream's version (closing one is an append too), and rows are only ever
        # added to the log, at a position above the last: if it still ends where our last commit left
        # it, nobody else has appended since, and what we remember holds. Not `PRAGMA data_version`,
        # which every commit to the file changes, the deliverer's checkpoint after each POST among
        # them, so that nearly every batch read its streams' versions again.
        (log_end,) = conn.execute("SELECT max(position) FROM events").fetchone()
        if log_end != self._last_position or len(self._versions) > MAX_REMEMBERED_STREAMS:
            self._versions.clear()
        now = time.time()
        values: list[str | int | bytes | float] = []
        new_streams: list[tuple[str, float | None]] = []
        closing: list[tuple[float, str]] = []
        versions: dict[str, int] = {}
        outcomes: list[int | BaseException] = []
        for append in batch:
            stream = append.stream
            current = versions.get(stream)
            if current is None:
                current = self._version_of(stream)
            if current == _CLOSED:
                outcomes.append(StreamClosed(stream))
                continue
            if current != append.expected_version:
                outcomes.append(ConcurrencyConflict(stream, append.expected_version, current))
                continue
            closed_at = now if append.closes_stream else None
            if current == 0:
                new_streams.append((stream, closed_at))
            elif closed_at is not None:
                closing.append((closed_at, stream))
            seq = current
            for event in append.events:
                seq += 1
                values += (stream, seq, event.type, event.data, now)
            versions[stream] = _CLOSED if append.closes_stream else seq
            outcomes.append(seq)
        last_position = _insert_events(conn, values)
        if new_streams:
            conn.executemany("INSERT INTO streams (stream, closed_at) VALUES (?, ?)", new_streams)
        if closing:
            conn.executemany("UPDATE streams SET closed_at = ? WHERE stream = ?", closing)
        conn.execute("COMMIT")
        self._last_position = last_position if values else log_end
        self._on_batch(len(batch), len(values) // _COLUMNS, time.monotonic() - began)

        for stream, version in versions.items():
            if version == _CLOSED:
                self._versions.pop(stream, None)
            else:
                self._versions[stream] = version
        self._appends += sum(1 for outcome in outcomes if not isinstance(outcome, BaseException))
        self._events += len(values) // _COLUMNS
        self._batches += 1
        if values:
            self._on_commit(CommittedBatch(last_position, values))
        settle(batch, outcomes)

    def _version_of(self, stream: str) -> int:
        version = self._versions.get(stream)
        if version is not None:
            return version
        last_seq, closed_at = self._conn.execute(
            "SELECT (SELECT max(seq) FROM events WHERE stream = ?1),"
            " (SELECT closed_at FROM streams WHERE stream = ?1)",
            (stream,),
        ).fetchone()
        if closed_at is not None:
            return _CLOSED
        return last_seq or 0

    def _fail(self, batch: list[Append], error: Exception) -> None:
        self._versions.clear()
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            # The writer must live on to serve the next appends; if the
            # transaction is still open, their BEGIN fails and says why.
            pass
        settle(batch, [StoreWriteFailed(append.stream, error) for append in batch])


def _insert_events(conn: sqlite3.Connection, values: list[str | int | bytes | float]) -> int:
    """Insert `values`, the five values of each event one after the other; the last position."""
    start = 0
    last_position = 0
    for size in _INSERT_CHUNKS:
        width = size * _COLUMNS
        while len(values) - start >= width:
            last_position = conn.execute(_INSERT_SQL[size], values[start : start + width]).lastrowid
            start += width
    return last_position
