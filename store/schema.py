"""The event store's file: recognising it, refusing what is not ours, migrating it.

A file is ours when its SQLite header carries our `application_id`; its
schema version is `PRAGMA user_version`. Migrations are an ordered list: the
schema at version N is what the first N migrations build. Every check that can
refuse a file runs before anything is written to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from store.errors import CorruptDatabase, ForeignDatabase, FutureSchemaVersion

if TYPE_CHECKING:
    from sqlite_utils import Database

# "CWEV": connect worker events, in the header of every event store file.
APPLICATION_ID = 0x43574556

Synchronous = Literal["FULL", "NORMAL"]


def _create_events_and_streams(db: Database) -> None:
    db.create_table(
        "events",
        {
            "position": int,
            "stream": str,
            "seq": int,
            "type": str,
            "data": bytes,
            "recorded_at": float,
        },
        pk="position",
        not_null={"stream", "seq", "type", "data", "recorded_at"},
        strict=True,
    )
    # The last line of defence against a conflicting append: whatever the
    # writer believes, the database refuses a second event at the same seq.
    db["events"].create_index(["stream", "seq"], index_name="events_stream_seq", unique=True)
    db.create_table(
        "streams",
        {"stream": str, "closed_at": float},
        pk="stream",
        strict=True,
    )


MIGRATIONS: tuple[Callable[[Database], None], ...] = (_create_events_and_streams,)
LATEST_VERSION = len(MIGRATIONS)


def prepare(conn: sqlite3.Connection, path: Path, synchronous: Synchronous) -> None:
    """Check that `conn`'s file is an event store we can use, then bring it up to date."""
    user_version = inspect_file(conn, path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    if user_version < LATEST_VERSION:
        _migrate(conn, path)


def inspect_file(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of `conn`'s file, once it is known to be an event store this program can read
    (a blank file is version 0): raises CorruptDatabase, ForeignDatabase or FutureSchemaVersion. Reads only."""
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
    except sqlite3.DatabaseError as error:
        raise CorruptDatabase(path, f"cannot be read as an SQLite database ({error})") from error
    is_blank = application_id == 0 and user_version == 0 and not tables
    if not is_blank and application_id != APPLICATION_ID:
        raise ForeignDatabase(path, tables)
    if user_version > LATEST_VERSION:
        raise FutureSchemaVersion(path, user_version, LATEST_VERSION)
    return user_version


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the missing migrations in one transaction.

    BEGIN IMMEDIATE takes the write lock first, so when two processes open a
    new file at once the second one finds the work done.
    """
    from sqlite_utils import Database  # only for a file not up to date: see store/tables.py

    db = Database(conn, recursive_triggers=False, execute_plugins=False)
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        if current > LATEST_VERSION:
            raise FutureSchemaVersion(path, current, LATEST_VERSION)
        for migration in MIGRATIONS[current:]:
            migration(db)
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={LATEST_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
