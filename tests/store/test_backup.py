"""Backups of the event store: a consistent copy while appends go on, owner-only, never over a file."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from store import EventStore, ForeignDatabase, FutureSchemaVersion, NewEvent, StoreFileError
from store.backup import BackupRefused, back_up
from store.schema import LATEST_VERSION

WRITERS = 4


@contextmanager
def appending(store: EventStore) -> Iterator[threading.Event]:
    """Threads appending to streams of their own until the block ends; yields an event set once each
    thread has committed at least once."""
    stop = threading.Event()
    started = threading.Barrier(WRITERS + 1)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            version = store.append(f"conversation-w{writer}", [NewEvent("Said", b"x" * 300)], 0)
            started.wait()
            while not stop.is_set():
                version = store.append(f"conversation-w{writer}", [NewEvent("Said", b"y" * 300)], version)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
            started.abort()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    try:
        started.wait(timeout=10)
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not failures, failures


def rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT position, stream, seq, type, data FROM events ORDER BY position").fetchall()
    finally:
        conn.close()


def journal_mode(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def test_a_backup_taken_while_appends_go_on_holds_every_event_up_to_a_position_and_nothing_after(
    store: EventStore, store_path: Path, tmp_path: Path
) -> None:
    for n in range(200):
        store.append(f"conversation-{n}", [NewEvent("Transferred", b"{}")], 0)
    destination = tmp_path / "backup.db"

    with appending(store):
        before = store.last_position()
        made = back_up(store_path, destination)
        after = store.last_position()
    store.close()

    assert before <= made.last_position <= after
    assert after > made.last_position, "the writers went on during the backup"  # they append back to back
    source = rows(store_path)
    assert rows(destination) == source[: made.last_position], "a prefix of the log: no gap, no torn batch"
    assert [row[0] for row in source[: made.last_position]] == list(range(1, made.last_position + 1))
    assert (made.path, made.size, made.schema_version) == (destination, destination.stat().st_size, LATEST_VERSION)


def test_the_backup_is_one_owner_only_file_that_opens_as_an_event_store(
    store: EventStore, store_path: Path, tmp_path: Path
) -> None:
    version = store.append("conversation-1", [NewEvent("Transferred", b"{}"), NewEvent("Said", b"hi")], 0)
    store.append("conversation-1", [NewEvent("ReturnedToBot", b"{}")], version, closes_stream=True)
    destination = tmp_path / "backups" / "events-copy.db"
    destination.parent.mkdir()
    umask = os.umask(0)
    try:
        made = back_up(store_path, destination)
    finally:
        os.umask(umask)

    assert stat.S_IMODE(destination.stat().st_mode) == 0o600
    assert sorted(p.name for p in destination.parent.iterdir()) == ["events-copy.db"], "no -wal or -journal beside it"
    assert journal_mode(destination) == "delete", "a file that opens alone, read-only media included"
    assert made.last_position == 3
    with EventStore.open(destination) as restored:
        assert [e.type for e in restored.read_stream("conversation-1")] == ["Transferred", "Said", "ReturnedToBot"]
        assert restored.open_streams("conversation-") == [], "the stream's closing is in the copy"


def test_an_existing_destination_is_refused_and_left_as_it_was(
    store: EventStore, store_path: Path, tmp_path: Path
) -> None:
    store.append("conversation-1", [NewEvent("Transferred", b"{}")], 0)
    destination = tmp_path / "yesterday.db"
    destination.write_bytes(b"yesterday's backup")

    with pytest.raises(BackupRefused, match="exists: a backup never overwrites"):
        back_up(store_path, destination)

    assert destination.read_bytes() == b"yesterday's backup"


def test_a_missing_store_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(StoreFileError, match="does not exist"):
        back_up(tmp_path / "events.db", tmp_path / "backup.db")

    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_an_event_store_is_refused_and_no_backup_is_left(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()

    with pytest.raises(ForeignDatabase):
        back_up(other, tmp_path / "backup.db")

    assert not (tmp_path / "backup.db").exists()


def test_a_store_of_a_newer_program_is_refused(store_path: Path, tmp_path: Path) -> None:
    EventStore.open(store_path).close()
    conn = sqlite3.connect(store_path)
    conn.execute(f"PRAGMA user_version={LATEST_VERSION + 1}")
    conn.close()

    with pytest.raises(FutureSchemaVersion):
        back_up(store_path, tmp_path / "backup.db")

    assert not (tmp_path / "backup.db").exists()


def test_a_destination_in_a_missing_folder_is_refused(store: EventStore, store_path: Path, tmp_path: Path) -> None:
    store.append("conversation-1", [NewEvent("Transferred", b"{}")], 0)

    with pytest.raises(BackupRefused, match="cannot be created"):
        back_up(store_path, tmp_path / "no-such-folder" / "backup.db")


def test_a_copy_that_fails_its_check_is_removed(store_path: Path, tmp_path: Path) -> None:
    with EventStore.open(store_path) as store:
        for n in range(300):
            store.append(f"conversation-{n}", [NewEvent("Said", b"x" * 500)], 0)
    page_size = 4096
    with store_path.open("r+b") as file:  # damage the pages after the schema's, where the events are
        file.seek(3 * page_size)
        file.write(b"\xff" * 8 * page_size)

    with pytest.raises(BackupRefused, match="quick_check"):
        back_up(store_path, tmp_path / "backup.db")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.db"]
