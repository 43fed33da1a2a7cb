"""Each worker's content items, as a stream `content-<worker id>` (see events/content.py).

    >>> content = ContentRegistry(store)
    >>> content.put(worker_id, "welcomewithname", "Welcome, {{name}}!", at=time.time())
    >>> content.get(worker_id, "welcomewithname")
    'Welcome, {{name}}!'
"""

from __future__ import annotations

from events.codec import decode_content, encode, event_type
from events.content import ContentDeleted, ContentPut, content_items
from store.event_store import EventStore
from store.records import NewEvent

STREAM_PREFIX = "content-"


class ContentRegistry:
    """Put, read and delete a worker's content items; the caller checks that the worker exists."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def put(self, worker_id: str, key: str, text: str, *, at: float) -> None:
        self._append(worker_id, ContentPut(at=at, key=key, text=text))

    def get(self, worker_id: str, key: str) -> str | None:
        return self.items(worker_id).get(key)

    def items(self, worker_id: str) -> dict[str, str]:
        return content_items(decode_content(stored.data) for stored in self._store.read_stream(STREAM_PREFIX + worker_id))

    def delete(self, worker_id: str, key: str, *, at: float) -> bool:
        """Whether there was such an item."""
        if key not in self.items(worker_id):
            return False
        self._append(worker_id, ContentDeleted(at=at, key=key))
        return True

    def _append(self, worker_id: str, event: ContentPut | ContentDeleted) -> None:
        stream = STREAM_PREFIX + worker_id
        # Two writers at once: one gets ConcurrencyConflict rather than a silent interleaving.
        version = self._store.stream_version(stream)
        self._store.append(stream, [NewEvent(event_type(event), encode(event))], expected_version=version)
