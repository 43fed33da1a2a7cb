"""SeenIds: remembers every id it was given, however many, and stays a handful of sets."""

from __future__ import annotations

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
