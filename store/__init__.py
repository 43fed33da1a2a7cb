"""Where events live: an append-only log of streams in SQLite, with group commit."""

from store.errors import (
    ConcurrencyConflict,
    CorruptDatabase,
    EventStoreClosed,
    ForeignDatabase,
    FutureSchemaVersion,
    LeaseLost,
    StoreError,
    StoreFileError,
    StoreWriteFailed,
    StreamClosed,
)
from store.event_store import EventStore
from store.records import NewEvent, StoredEvent, StoreStats

__all__ = [
    "ConcurrencyConflict",
    "CorruptDatabase",
    "EventStore",
    "EventStoreClosed",
    "ForeignDatabase",
    "FutureSchemaVersion",
    "LeaseLost",
    "NewEvent",
    "StoreError",
    "StoreFileError",
    "StoreStats",
    "StoreWriteFailed",
    "StoredEvent",
    "StreamClosed",
]
