"""How much disk the event store takes: its file and its write-ahead log (the WAL grows between the
checkpointer's passes, store/checkpointer.py, and is folded back into the file by them)."""

from __future__ import annotations

from pathlib import Path

import msgspec


class StoreSize(msgspec.Struct, frozen=True, kw_only=True):
    file_bytes: int
    wal_bytes: int


def store_size(store_path: Path) -> StoreSize:
    """The sizes now; a missing WAL (the store closed cleanly) is 0 bytes."""
    return StoreSize(file_bytes=_size(store_path), wal_bytes=_size(store_path.with_name(store_path.name + "-wal")))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
