"""What goes into the event store and what comes out of it.

The store keeps opaque records, a type name and the encoded body; it knows
nothing of the event classes in `events/`, which encode and decode them.
"""

from __future__ import annotations

import msgspec


class NewEvent(msgspec.Struct, frozen=True):
    """An event to append: its type name and its encoded body.

    >>> NewEvent("AgentMessage", b'{"text":"hello"}')
    NewEvent(type='AgentMessage', data=b'{"text":"hello"}')
    """

    type: str
    data: bytes


class StoredEvent(msgspec.Struct, frozen=True):
    """An event as the store keeps it.

    `seq` numbers the events of one stream from 1 without gaps; `position`
    orders the events of all streams in commit order. `recorded_at` is the
    store's clock (Unix seconds) when the batch that wrote the event began.
    """

    stream: str
    seq: int
    position: int
    type: str
    data: bytes
    recorded_at: float


class StoreStats(msgspec.Struct, frozen=True):
    """Counters of the group-commit writer since the store was opened.

    `batches` counts committed transactions, so `appends / batches` is the
    mean number of appends that shared one commit (and one fsync).
    """

    appends: int
    events: int
    batches: int
    queued: int
