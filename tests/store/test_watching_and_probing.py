"""What the store tells the service's metrics (each append's wait, each batch's size) and the write probe
its readiness asks: a committed write, or SQLite's reason why not."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from store import ConcurrencyConflict, EventStore, NewEvent
from store.write_probe import WriteProbe


class Watcher:
    def __init__(self) -> None:
        self.appends: list[float] = []
        self.batches: list[tuple[int, int, float]] = []

    def appended(self, seconds: float) -> None:
        self.appends.append(seconds)

    def committed(self, appends: int, events: int, seconds: float) -> None:
        self.batches.append((appends, events, seconds))


def test_a_watcher_is_told_each_append_and_each_batch(store: EventStore) -> None:
    watcher = Watcher()
    store.watch(watcher)

    store.append("conversation-1", [NewEvent("A", b"{}"), NewEvent("B", b"{}")], 0)
    store.append("conversation-2", [NewEvent("A", b"{}")], 0)

    assert len(watcher.appends) == 2 and all(seconds > 0 for seconds in watcher.appends)
    assert [(appends, events) for appends, events, _ in watcher.batches] == [(1, 2), (1, 1)]
    assert all(seconds > 0 for _, _, seconds in watcher.batches)


def test_appends_waiting_together_are_told_as_one_batch(store: EventStore) -> None:
    watcher = Watcher()
    store.watch(watcher)
    # Another connection holds the write lock, so the writer's first BEGIN waits and the appends queue up.
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    threads = [
        threading.Thread(target=store.append, args=(f"conversation-{n}", [NewEvent("A", b"{}")], 0)) for n in range(5)
    ]
    for thread in threads:
        thread.start()
    _wait_until(lambda: store.stats().queued == 4)  # one taken by the writer, waiting for the lock
    blocker.execute("ROLLBACK")
    blocker.close()
    for thread in threads:
        thread.join(timeout=10)

    assert [(appends, events) for appends, events, _ in watcher.batches] == [(5, 5)]
    assert len(watcher.appends) == 5


def test_a_refused_append_is_not_told_as_one(store: EventStore) -> None:
    watcher = Watcher()
    store.watch(watcher)
    store.append("conversation-1", [NewEvent("A", b"{}")], 0)

    try:
        store.append("conversation-1", [NewEvent("A", b"{}")], 0)
    except ConcurrencyConflict:
        pass

    assert len(watcher.appends) == 1


def test_no_watcher_once_unwatched(store: EventStore) -> None:
    watcher = Watcher()
    store.watch(watcher)
    store.watch(None)

    store.append("conversation-1", [NewEvent("A", b"{}")], 0)

    assert watcher.appends == [] and watcher.batches == []


def test_the_writer_runs_while_the_store_is_open(store_path: Path) -> None:
    store = EventStore.open(store_path)
    assert store.writer_running()
    store.close()
    assert not store.writer_running()


def test_a_probe_commits_a_row_outside_the_log(store: EventStore) -> None:
    probe = WriteProbe(store.path, clock=lambda: 42.0)
    try:
        assert probe.check() is None
        assert probe.check() is None
    finally:
        probe.close()

    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT id, at FROM write_probe").fetchall() == [(1, 42.0)]
    assert store.last_position() == 0


def test_a_probe_says_why_the_store_cannot_be_written_and_succeeds_again_after(store: EventStore) -> None:
    probe = WriteProbe(store.path, busy_timeout=0.05)
    holder = sqlite3.connect(store.path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer keeps the lock past the probe's patience
        assert probe.check() == "database is locked"
        holder.execute("ROLLBACK")
        assert probe.check() is None
    finally:
        holder.close()
        probe.close()


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)
