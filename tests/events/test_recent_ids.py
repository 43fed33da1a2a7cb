"""RecentIds: remembers the last 512 ids across its chunks, forgets older ones."""

from __future__ import annotations

from functools import reduce

from events.recent_ids import CHUNK, KEPT_CHUNKS, RecentIds


def remembered(count: int) -> RecentIds:
    return reduce(RecentIds.add, (f"id-{n}" for n in range(count)), RecentIds())


def test_ids_in_sealed_chunks_and_the_newest_are_remembered() -> None:
    ids = remembered(CHUNK * 3 + 5)
    assert all(f"id-{n}" in ids for n in range(CHUNK * 3 + 5))
    assert "id-999" not in ids


def test_ids_older_than_the_window_are_forgotten_and_memory_stays_bounded() -> None:
    window = CHUNK * KEPT_CHUNKS
    ids = remembered(window + CHUNK)
    assert "id-0" not in ids and f"id-{CHUNK - 1}" not in ids
    assert f"id-{CHUNK}" in ids and f"id-{window + CHUNK - 1}" in ids
    assert len(ids.sealed) == KEPT_CHUNKS


def test_adding_leaves_the_older_set_unchanged() -> None:
    before = remembered(3)
    before.add("new")
    assert "new" not in before
