"""Appends queued behind a DynamoDB transaction held under way: how the store tests make appends
wait together and go in the same batches."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from store import NewEvent
from store.dynamo_event_store import DynamoEventStore
from tests.store.test_concurrency import race, wait_until


def race_behind_a_held_transaction(
    store: DynamoEventStore, monkeypatch: pytest.MonkeyPatch, contenders: list[Callable[[], object]]
) -> tuple[list[object], int]:
    """Hold the transaction of an append to stream "first" under way, race `contenders` until every
    one is queued behind it, then let it go. Their results or errors in order, and the store's count
    of batches once all were queued (the held one counted)."""
    under_way, go_on = threading.Event(), threading.Event()
    send = store._client.transact_write_items

    def held(**request: object) -> object:
        under_way.set()
        go_on.wait()
        return send(**request)

    monkeypatch.setattr(store._client, "transact_write_items", held)
    first = threading.Thread(target=store.append, args=("first", [NewEvent("Tick", b"{}")], 0))
    first.start()
    under_way.wait()
    results: list[object] = []
    racing = threading.Thread(target=lambda: results.extend(race(*contenders)))
    racing.start()
    wait_until(lambda: store.stats().queued == len(contenders))
    batches_when_queued = store.stats().batches
    go_on.set()
    first.join()
    racing.join()
    return results, batches_when_queued
