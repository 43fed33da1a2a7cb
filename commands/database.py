"""The `--db` option that every command reading or writing the event log shares."""

from __future__ import annotations

import argparse
from pathlib import Path

from store import EventStore
from store.data_folder import prepare_data_folder

DEFAULT_DATA_DIR = Path("data")
DEFAULT_DB = DEFAULT_DATA_DIR / "events.db"


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB, help=f"the event store's SQLite file (default {DEFAULT_DB})"
    )


def open_existing_store(path: Path) -> EventStore:
    """Open the store for reading; a missing file is an error, not a new empty store."""
    if not path.exists():
        raise FileNotFoundError(f"no event store at {path}")
    return EventStore.open(path)


def open_store_for_writing(path: Path) -> EventStore:
    """Open (or create) the store a command writes to, in a data folder kept owner-only: a missing
    folder is created 0700, and one whose secrets others can read is refused (`DataFolderNotPrivate`)."""
    prepare_data_folder(path.parent)
    return EventStore.open(path)
