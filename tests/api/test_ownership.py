"""Whose a conversation is, kept in memory: read from the log once, or kept as the API's transfer recorded it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.ownership import Ownership
from store import EventStore
from store.clients import Client


def client(client_id: str, *, admin: bool = False) -> Client:
    return Client(id=client_id, name=client_id, admin=admin, allowed_hosts=(), created_at=0.0, revoked_at=None)


ALICE, BOB, ADMIN = client("alice"), client("bob"), client("root", admin=True)


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[EventStore]:
    with EventStore.open(tmp_path / "events.db") as store:
        yield store


def test_a_conversation_transferred_through_the_api_is_known_without_reading_the_log(empty_store: EventStore) -> None:
    ownership = Ownership(empty_store)
    assert ownership.known_may_see(ALICE, "c-1") is None

    ownership.transferred("c-1", "alice")

    # The log holds nothing of c-1: these answers come from what was kept.
    assert [ownership.known_may_see(who, "c-1") for who in (ALICE, BOB, ADMIN)] == [True, False, True]
    assert [ownership.may_see(who, "c-1") for who in (ALICE, BOB, ADMIN)] == [True, False, True]
    assert ownership.exists("c-1")


def test_a_conversation_transferred_without_a_client_is_an_admins_only(empty_store: EventStore) -> None:
    ownership = Ownership(empty_store)

    ownership.transferred("old", None)

    assert [ownership.known_may_see(who, "old") for who in (ALICE, ADMIN)] == [False, True]


def test_an_owner_kept_is_never_replaced(empty_store: EventStore) -> None:
    ownership = Ownership(empty_store)
    ownership.transferred("c-1", "alice")

    ownership.transferred("c-1", "bob")

    assert [ownership.known_may_see(who, "c-1") for who in (ALICE, BOB)] == [True, False]
