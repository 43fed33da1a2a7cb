"""Which client's each conversation is: the `client_id` its transfer recorded (`Transferred`, its first event).

A bot sees only its own conversations; an admin client sees all. A conversation transferred before
clients existed (no client id) is seen by admins only. Owners never change, so each is read from the
log once and kept (one short string per conversation looked up), or kept as the API's own transfer
records it (`transferred`), so that a conversation's first message after its transfer is not a read.
`known_may_see` answers from what is kept without touching the store, so the API can skip a
thread-pool hop on every request to a conversation it has seen before.
"""

from __future__ import annotations

import threading

from events import decode
from events.conversation_events import Transferred
from store.clients import Client
from store.conversations import conversation_stream
from store.event_store import EventStore

_NO_OWNER = ""


class Ownership:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    def exists(self, conversation_id: str) -> bool:
        return self._owner(conversation_id) is not None

    def may_see(self, client: Client, conversation_id: str) -> bool:
        """Whether the conversation exists and is the client's (or the client is an admin)."""
        owner = self._owner(conversation_id)
        return owner is not None and (client.admin or owner == client.id)

    def known_may_see(self, client: Client, conversation_id: str) -> bool | None:
        """`may_see` from the owners kept, without reading the store; None when this one is not kept yet."""
        with self._lock:
            owner = self._owners.get(conversation_id)
        return None if owner is None else client.admin or owner == client.id

    def transferred(self, conversation_id: str, client_id: str | None) -> None:
        """The API's transfer of the conversation is in the log, recorded for `client_id` (its
        `Transferred.client_id`): kept as if read, since owners never change."""
        with self._lock:
            self._owners.setdefault(conversation_id, client_id or _NO_OWNER)

    def _owner(self, conversation_id: str) -> str | None:
        """The owner's client id ("" for none), or None when the conversation was never transferred."""
        with self._lock:
            known = self._owners.get(conversation_id)
        if known is not None:
            return known
        first = self._store.read_stream(conversation_stream(conversation_id), until_seq=1)
        if not first:
            return None
        event = decode(first[0].data)
        owner = (event.client_id if isinstance(event, Transferred) else None) or _NO_OWNER
        with self._lock:
            self._owners[conversation_id] = owner
        return owner
