"""SeenIds: remembers every id it was given, however many, exactly, in a handful of small packed chunks."""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from functools import reduce

from events.seen_ids import CHUNK, SeenIds


def remembered(count: int) -> SeenIds:
    return reduce(SeenIds.add, (f"id-{n}" for n in range(count)), SeenIds())


def test_ids_in_sealed_sets_and_the_newest_are_remembered() -> None:
    ids = remembered(CHUNK * 3 + 5)
    assert all(f"id-{n}" in ids for n in range(CHUNK * 3 + 5))
    assert "id-999" not in ids


def test_every_id_of_a_ten_thousand_item_chat_is_remembered_in_few_sets() -> None:
    ids = remembered(10_000)
    assert all(f"id-{n}" in ids for n in range(10_000))
    assert len(ids) == 10_000
    assert len(ids.sealed) <= 10  # sizes are distinct powers of two times 16
    assert "id-10000" not in ids


def test_adding_leaves_the_older_set_unchanged() -> None:
    before = remembered(CHUNK * 2 - 1)
    after = before.add("new")
    assert "new" in after and "new" not in before
    assert len(before) == CHUNK * 2 - 1


def uuids(count: int) -> list[str]:
    return [str(uuid.UUID(int=n * 7919 + 1)) for n in range(count)]


def test_connect_ids_and_any_other_ids_are_remembered_exactly_side_by_side() -> None:
    mixed = [item for pair in zip(uuids(500), (f"bot message {n} ✓" for n in range(500))) for item in pair]
    ids = reduce(SeenIds.add, mixed, SeenIds())
    assert all(item in ids for item in mixed)
    assert len(ids) == 1000
    assert str(uuid.UUID(int=3)) not in ids and "bot message 500 ✓" not in ids and "" not in ids


def test_a_uuid_spelled_otherwise_is_another_id() -> None:
    # Only the canonical lowercase spelling is packed as 16 bytes; any other is kept as its text.
    ids = remembered(0).add(str(uuid.UUID(int=42)))
    assert str(uuid.UUID(int=42)).upper() not in ids
    assert "{" + str(uuid.UUID(int=42)) + "}" not in ids
    upper = remembered(0).add(str(uuid.UUID(int=42)).upper())
    assert str(uuid.UUID(int=42)) not in upper and str(uuid.UUID(int=42)).upper() in upper


def test_a_text_id_with_the_bytes_of_a_uuid_is_not_that_uuid() -> None:
    as_text = bytes(range(48, 64)).decode()  # 16 ASCII bytes, as long as a UUID's
    ids = reduce(SeenIds.add, [as_text] * 1 + [f"x{n}" for n in range(CHUNK * 2)], SeenIds())
    assert as_text in ids
    assert str(uuid.UUID(bytes=as_text.encode())) not in ids


def test_the_ids_come_back_as_they_were_added() -> None:
    added = uuids(CHUNK * 5 + 3) + [f"id-{n}" for n in range(CHUNK * 2)] + ["ünïcode ✓", "A" * 300]
    assert sorted(reduce(SeenIds.add, added, SeenIds())) == sorted(added)


def test_the_same_adds_give_equal_sets() -> None:
    added = uuids(CHUNK * 3 + 4)
    assert reduce(SeenIds.add, added, SeenIds()) == reduce(SeenIds.add, added, SeenIds())
    assert reduce(SeenIds.add, added, SeenIds()) != reduce(SeenIds.add, added[:-1], SeenIds())


def test_thousands_of_connect_ids_take_about_21_bytes_each() -> None:
    added = uuids(4_000)
    gc.collect()
    tracemalloc.start()
    try:
        ids = reduce(SeenIds.add, added, SeenIds())
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(item in ids for item in added[::97])
    # 16 bytes of UUID, a tag byte, 4 bytes of where it ends; the rest is the few chunks' headers.
    assert kept / len(added) < 24


def test_a_short_chats_ids_are_packed_too() -> None:
    # Most chats never seal a chunk: 500 chats of 12 Connect ids each (the soak's, after 12 exchanges).
    every = uuids(12 * 500)
    chats = [every[n * 12 : (n + 1) * 12] for n in range(500)]
    tracemalloc.start()
    try:
        kept = [reduce(SeenIds.add, added, SeenIds()) for added in chats]
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(all(item in ids for item in added) for ids, added in zip(kept, chats))
    # 21 bytes a key and 4 of length, and each chat's one `bytes` and `SeenIds`: under 40 an id.
    assert held / (12 * 500) < 40, held / (12 * 500)
