"""An exact, persistent set of ids (Connect item ids, bot message ids) that stays cheap to extend and small."""

from __future__ import annotations

import re
import uuid
from array import array
from collections.abc import Iterator
from itertools import accumulate, chain

# Ids are first kept in a short run of keys; a full one is sealed into a sorted chunk.
CHUNK = 16

# A canonical (lowercase) UUID, as Amazon Connect writes its item ids: kept as its 16 bytes. Only the
# canonical spelling is, so that the bytes turn back into the very same string.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_UUID_TAG, _TEXT_TAG = b"\x00", b"\x01"


def _key(item: str) -> bytes:
    """The id as the bytes it is kept as: a tag, then a canonical UUID's 16 bytes or any other id's UTF-8
    (the tag keeps the two apart, so that no two ids share a key)."""
    if len(item) == 36 and _UUID.fullmatch(item):
        return _UUID_TAG + bytes.fromhex(item.replace("-", ""))
    return _TEXT_TAG + item.encode("utf-8", "surrogatepass")


def _item(key: bytes) -> str:
    if key[:1] == _UUID_TAG:
        return str(uuid.UUID(bytes=key[1:]))
    return key[1:].decode("utf-8", "surrogatepass")


def _entry(key: bytes) -> bytes:
    """A key as the newest keep it: its length (4 bytes) and itself, appended to one `bytes`."""
    return len(key).to_bytes(4, "big") + key


def _entries(newest: bytes) -> list[bytes]:
    keys, at = [], 0
    while at < len(newest):
        size = int.from_bytes(newest[at : at + 4], "big")
        keys.append(newest[at + 4 : at + 4 + size])
        at += 4 + size
    return keys


class _Chunk:
    """Sorted keys packed into one bytes object, with where each ends (4 bytes a key).

    A 36-character Connect id so costs 21 bytes here, against about 130 as a str in a frozenset (the
    string object and its hash slot); a lookup is a binary search over the keys."""

    __slots__ = ("packed", "ends")

    def __init__(self, keys: list[bytes]) -> None:
        self.packed = b"".join(keys)
        self.ends = array("I", accumulate(map(len, keys)))

    def __len__(self) -> int:
        return len(self.ends)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Chunk) and self.ends == other.ends and self.packed == other.packed

    def __hash__(self) -> int:
        return hash(self.packed)

    def keys(self) -> list[bytes]:
        packed, ends = self.packed, self.ends
        return [packed[start:end] for start, end in zip(chain((0,), ends), ends)]

    def holds(self, key: bytes) -> bool:
        packed, ends = self.packed, self.ends
        low, high = 0, len(ends)
        while low < high:
            middle = (low + high) // 2
            found = packed[ends[middle - 1] if middle else 0 : ends[middle]]
            if found == key:
                return True
            if found < key:
                low = middle + 1
            else:
                high = middle
        return False


class SeenIds:
    """Every id ever added, for the whole conversation, without mutation.

    The newest (fewer than 16) are one `bytes`, each key after its length,
    so that a short chat's ids are packed too (most chats never reach 16).
    Every 16th add seals them into a sorted chunk and merges it, like a
    binary counter, with the sealed chunks of the same size (16, 32, 64 ...),
    so `sealed` holds at most log2(n / 16) + 1 chunks of distinct sizes and
    each id is copied about log2(n / 16) times over its life. A lookup
    checks the newest (a substring search, then a parse when it matches) and
    binary searches at most about 10 chunks at 10,000 ids.

    Memory is about 21 bytes an id for Connect's 36-character ids (a tag and
    the UUID's 16 bytes, and 4 bytes for where it ends) and the id's UTF-8
    length plus 5 for any other id, measured in tests/events/test_seen_ids.py;
    it is exact on purpose: an id forgotten is a message told twice.

    >>> ids = SeenIds().add("a")
    >>> "a" in ids, "b" in ids
    (True, False)
    """

    __slots__ = ("sealed", "newest", "count")

    def __init__(self, sealed: tuple[_Chunk, ...] = (), newest: bytes = b"", count: int = 0) -> None:
        self.sealed = sealed
        self.newest = newest
        self.count = count  # of the newest

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, str):
            return False
        key = _key(item)
        if _entry(key) in self.newest and key in _entries(self.newest):
            return True
        return any(chunk.holds(key) for chunk in self.sealed)

    def __len__(self) -> int:
        return self.count + sum(len(chunk) for chunk in self.sealed)

    def __iter__(self) -> Iterator[str]:
        """The ids, sealed ones first (each chunk in the order of its keys), then the newest as added."""
        for chunk in self.sealed:
            yield from map(_item, chunk.keys())
        yield from map(_item, _entries(self.newest))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SeenIds) and self.newest == other.newest and self.sealed == other.sealed

    def __hash__(self) -> int:
        return hash((self.sealed, self.newest))

    def __repr__(self) -> str:
        return f"SeenIds({len(self)} ids)"

    def add(self, item: str) -> SeenIds:
        """With `item`, which the caller has checked is not in it yet (the fold only records new
        ids; one added twice is kept twice, harmlessly)."""
        newest = self.newest + _entry(_key(item))
        if self.count + 1 < CHUNK:
            return SeenIds(self.sealed, newest, self.count + 1)
        keys = sorted(_entries(newest))
        sealed = self.sealed
        while sealed and len(sealed[-1]) <= len(keys):
            # Two sorted runs: timsort merges them in one pass, in C.
            keys = sorted(sealed[-1].keys() + keys)
            sealed = sealed[:-1]
        return SeenIds(sealed + (_Chunk(keys),))
