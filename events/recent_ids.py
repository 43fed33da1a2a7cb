"""A bounded, persistent set of the most recent ids (Connect message ids, bot message ids)."""

from __future__ import annotations

import msgspec

CHUNK = 16
KEPT_CHUNKS = 32


class RecentIds(msgspec.Struct, frozen=True):
    """The last `CHUNK * KEPT_CHUNKS` (512) ids seen, cheap to extend without mutation.

    Adding copies only the newest chunk, a tuple of at most 16 ids; every 16th
    add seals it into a frozenset and copies the short tuple of sealed chunks.
    So a fold over a long conversation stays linear and cheap (`evolve` must
    cost less than decoding the event). Once `KEPT_CHUNKS` are sealed the oldest
    is dropped, so memory per conversation is bounded. The trade-off: an id
    older than the last 512 is forgotten, which is harmless because repeats
    come from the recent past (a make-before-break socket switch, or
    GetTranscript from the last id seen).

    >>> ids = RecentIds().add("a")
    >>> "a" in ids, "b" in ids
    (True, False)
    """

    sealed: tuple[frozenset[str], ...] = ()
    newest: tuple[str, ...] = ()

    def __contains__(self, item: object) -> bool:
        if item in self.newest:
            return True
        return any(item in chunk for chunk in self.sealed)

    def add(self, item: str) -> RecentIds:
        newest = self.newest + (item,)
        if len(newest) < CHUNK:
            return RecentIds(self.sealed, newest)
        return RecentIds((self.sealed + (frozenset(newest),))[-KEPT_CHUNKS:], ())
