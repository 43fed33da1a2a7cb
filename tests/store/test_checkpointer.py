"""The WAL reaches the database file through the store's own checkpointer, never inside an append."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store import EventStore, NewEvent
from store.checkpointer import without_automatic_checkpoints
from tests.service.harness import wait_for

BODY = b"x" * 3000  # about one page an event


def test_committed_events_reach_the_database_file_in_the_background(store: EventStore, store_path: Path) -> None:
    size_before = store_path.stat().st_size

    for seq in range(200):
        store.append("conversation-1", [NewEvent("Big", BODY)], expected_version=seq)

    wait_for(lambda: store_path.stat().st_size > size_before + 200 * len(BODY), "the checkpointer to copy the WAL back")
    assert len(store.read_stream("conversation-1")) == 200


def test_a_connection_that_writes_never_checkpoints_on_commit(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    conn = without_automatic_checkpoints(sqlite3.connect(path, isolation_level=None))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (data BLOB)")
    size_before = path.stat().st_size

    for _ in range(1500):  # past SQLite's automatic checkpoint at 1,000 WAL pages
        conn.execute("INSERT INTO t VALUES (?)", (BODY,))

    assert path.stat().st_size == size_before
    conn.close()


def test_closing_the_store_leaves_everything_in_the_database_file(store_path: Path) -> None:
    with EventStore.open(store_path) as store:
        store.append("conversation-1", [NewEvent("Big", BODY)], expected_version=0)

    assert not store_path.with_name(store_path.name + "-wal").exists()
    with EventStore.open(store_path) as reopened:
        assert [event.data for event in reopened.read_stream("conversation-1")] == [BODY]
