"""Opening files: new ones become stores, ours are migrated, anything else is refused untouched."""

import sqlite3
from pathlib import Path

import pytest

from store import (
    CorruptDatabase,
    EventStore,
    ForeignDatabase,
    FutureSchemaVersion,
    NewEvent,
    StoreFileError,
)
from store.schema import APPLICATION_ID, LATEST_VERSION


def files_beside(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir())}


def make_store_with_events(path: Path) -> None:
    with EventStore.open(path) as store:
        for n in range(50):
            store.append(f"conversation-{n}", [NewEvent("Tick", b"x" * 200)], 0)


def header_of(path: Path) -> tuple[int, int, str]:
    conn = sqlite3.connect(path)
    try:
        return (
            conn.execute("PRAGMA application_id").fetchone()[0],
            conn.execute("PRAGMA user_version").fetchone()[0],
            conn.execute("PRAGMA journal_mode").fetchone()[0],
        )
    finally:
        conn.close()


def test_a_new_file_becomes_a_store_at_the_latest_schema_version(store_path: Path) -> None:
    EventStore.open(store_path).close()

    assert header_of(store_path) == (APPLICATION_ID, LATEST_VERSION, "wal")


def test_an_empty_file_becomes_a_store(store_path: Path) -> None:
    store_path.write_bytes(b"")

    with EventStore.open(store_path) as store:
        assert store.append("s", [NewEvent("A", b"")], 0) == 1


def test_reopening_a_store_changes_nothing_until_something_is_appended(store_path: Path) -> None:
    make_store_with_events(store_path)
    before = files_beside(store_path)

    EventStore.open(store_path).close()

    assert files_beside(store_path) == before


def test_a_file_that_is_not_sqlite_is_refused_untouched(store_path: Path) -> None:
    store_path.write_text("conversation-1,Transferred\nconversation-1,ChatStarted\n" * 100)
    before = files_beside(store_path)

    with pytest.raises(CorruptDatabase) as raised:
        EventStore.open(store_path)

    assert raised.value.path == store_path
    assert str(store_path) in str(raised.value)
    assert files_beside(store_path) == before


def test_a_store_with_a_damaged_schema_page_is_refused_untouched(store_path: Path) -> None:
    make_store_with_events(store_path)
    damaged = bytearray(store_path.read_bytes())
    damaged[100:4096] = b"\xa5" * (4096 - 100)
    store_path.write_bytes(bytes(damaged))
    before = files_beside(store_path)

    with pytest.raises(CorruptDatabase, match="cannot be read") as raised:
        EventStore.open(store_path)

    assert str(store_path) in str(raised.value)
    assert files_beside(store_path) == before


def test_damaged_event_pages_are_reported_as_corruption_when_read(store_path: Path) -> None:
    make_store_with_events(store_path)
    damaged = bytearray(store_path.read_bytes())
    damaged[4096:] = b"\xa5" * (len(damaged) - 4096)
    store_path.write_bytes(bytes(damaged))

    with EventStore.open(store_path) as store, pytest.raises(CorruptDatabase) as raised:
        store.read_all()

    assert str(store_path) in str(raised.value)


def test_a_foreign_sqlite_database_is_refused_untouched(store_path: Path) -> None:
    conn = sqlite3.connect(store_path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('Ada')")
    conn.commit()
    conn.close()
    before = files_beside(store_path)

    with pytest.raises(ForeignDatabase) as raised:
        EventStore.open(store_path)

    assert raised.value.tables == ["customers"]
    assert str(store_path) in str(raised.value) and "customers" in str(raised.value)
    assert files_beside(store_path) == before


def test_a_store_from_a_future_schema_version_is_refused_untouched(store_path: Path) -> None:
    make_store_with_events(store_path)
    conn = sqlite3.connect(store_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    before = files_beside(store_path)

    with pytest.raises(FutureSchemaVersion) as raised:
        EventStore.open(store_path)

    assert (raised.value.found, raised.value.supported) == (LATEST_VERSION + 1, LATEST_VERSION)
    assert str(store_path) in str(raised.value)
    assert files_beside(store_path) == before


def test_a_path_that_cannot_be_opened_is_named_in_the_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "events.db"

    with pytest.raises(StoreFileError) as raised:
        EventStore.open(missing)

    assert raised.value.path == missing
    assert str(missing) in str(raised.value)


def test_an_unknown_synchronous_level_is_refused(store_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        EventStore.open(store_path, synchronous="OFF")  # type: ignore[arg-type]
    assert not store_path.exists()
