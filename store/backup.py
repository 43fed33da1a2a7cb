"""A copy of the event store's file, safe to take while the service appends to it.

    made = back_up(Path("data/events.db"), Path("/backups/events-2026-12-03.db"))
    print(made.path, made.size, made.last_position)

SQLite's online backup API copies the pages of one consistent snapshot: a read transaction, which
in WAL mode never blocks the service's writer (its appends go on into the WAL meanwhile, and the
PASSIVE checkpoints leave alone what the snapshot still reads). The copy holds every event committed
when it began and nothing of a half-written batch, the API clients' and the local vault's tables
with them (the vault's key file is not in it: keep that apart). It is one self-contained file in
rollback-journal mode, created 0600 whatever the umask because it holds participant tokens, and
checked with SQLite's quick_check before it counts as made. The source is only read.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from store.errors import StoreError, StoreFileError
from store.event_store import BUSY_TIMEOUT_SECONDS
from store.schema import inspect_file


class BackupRefused(StoreError):
    """The backup cannot be written where asked; nothing was written."""


@dataclass(frozen=True)
class Backup:
    """What `back_up` wrote: the file, its size in bytes, the last event's global position in it and
    its schema version."""

    path: Path
    size: int
    last_position: int
    schema_version: int


def back_up(source: Path, destination: Path) -> Backup:
    """Copy the event store at `source` into the new file `destination`, which must not exist."""
    source_conn = _open_source(source)
    try:
        schema_version = inspect_file(source_conn, source)
        if schema_version == 0:
            raise StoreFileError(source, "is empty: there is nothing to back up")
        _create_owner_only(destination)
        try:
            return _copy(source_conn, destination, schema_version)
        except BaseException:
            _remove_partial(destination)
            raise
    finally:
        source_conn.close()


def _open_source(source: Path) -> sqlite3.Connection:
    # sqlite3.connect would create a missing file: a backup of nothing is a mistake in the path.
    if not source.is_file():
        raise StoreFileError(source, "does not exist (the store is DATA_DIR/events.db; name it with --db)")
    try:
        conn = sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    except sqlite3.Error as error:
        raise StoreFileError(source, f"cannot be opened ({error})") from error
    conn.execute("PRAGMA query_only=1")
    return conn


def _create_owner_only(destination: Path) -> None:
    try:
        descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupRefused(f"{destination} exists: a backup never overwrites a file; name a new one") from None
    except OSError as error:
        raise BackupRefused(f"{destination} cannot be created ({error.strerror})") from None
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def _copy(source_conn: sqlite3.Connection, destination: Path, schema_version: int) -> Backup:
    copy = sqlite3.connect(destination, isolation_level=None)
    try:
        try:
            source_conn.backup(copy)
        except sqlite3.Error as error:
            raise BackupRefused(f"the copy to {destination} failed ({error}); nothing was kept") from error
        # The copy's header says WAL, as the store's does; one file needs no -wal beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        last_position = _checked_last_position(copy, destination)
    finally:
        copy.close()
    _sync(destination)
    return Backup(destination, destination.stat().st_size, last_position, schema_version)


def _checked_last_position(copy: sqlite3.Connection, destination: Path) -> int:
    """The copy's last event position, once SQLite's quick_check finds its pages whole."""
    try:
        [check] = copy.execute("PRAGMA quick_check(1)").fetchone()
        if check == "ok":
            return copy.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]
    except sqlite3.DatabaseError as error:
        check = str(error)
    raise BackupRefused(
        f"the copy at {destination} failed SQLite's quick_check ({check}): the store's file may be damaged; "
        "nothing was kept"
    )


def _sync(destination: Path) -> None:
    """The copy and its folder entry on disk, so a power cut right after leaves the backup whole."""
    for path, flags in ((destination, os.O_RDONLY), (destination.parent, os.O_RDONLY | os.O_DIRECTORY)):
        descriptor = os.open(path, flags)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _remove_partial(destination: Path) -> None:
    for path in (destination, *(Path(f"{destination}{suffix}") for suffix in ("-journal", "-wal", "-shm"))):
        path.unlink(missing_ok=True)
