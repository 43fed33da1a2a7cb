"""The API clients on both backends: the SQLite file's table and the log's DynamoDB table, behind the
same calls (`clients_of` picks the one beside the log). On DynamoDB two stores on one table stand for
two nodes: a client made at one authenticates at the other, and a revoke at one refuses it at both."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from store.clients import SigningSecrets, UnknownClient, hash_token
from store.clients_of import clients_of
from store.event_log import EventLog
from tests.store.conftest import both_backends


@both_backends
def test_a_client_made_through_one_store_authenticates_through_another_until_revoked(
    open_store: Callable[[], EventLog],
) -> None:
    here, there = open_store(), open_store()
    with clients_of(here) as made_here, clients_of(there) as seen_there:
        made = made_here.create("shop-bot", allowed_hosts=("Hooks.Example.COM",))

        assert seen_there.authenticate(made.token) == made.client
        assert made.client.allowed_hosts == ("hooks.example.com",)
        assert seen_there.signing_secret(made.client.id) == made.signing_secret
        assert seen_there.get(made.client.id) == made.client

        revoked = seen_there.revoke(made.client.id)

        assert revoked.revoked and made_here.get(made.client.id).revoked_at == revoked.revoked_at
        assert made_here.authenticate(made.token) is None
        assert seen_there.revoke(made.client.id).revoked_at == revoked.revoked_at, "revoking twice keeps the first time"
        assert made_here.signing_secret(made.client.id) == made.signing_secret, "its webhooks are still signed"


@both_backends
def test_signing_secrets_are_read_once_a_client_and_an_unknown_client_is_asked_again(
    open_store: Callable[[], EventLog],
) -> None:
    here, there = open_store(), open_store()
    with clients_of(here) as made_here, clients_of(there) as seen_there:
        asked: list[str | None] = []

        def lookup(client_id: str | None) -> str | None:
            asked.append(client_id)
            return seen_there.signing_secret(client_id)

        secrets = SigningSecrets(lookup)
        made = made_here.create("bot")

        assert [secrets(made.client.id) for _ in range(3)] == [made.signing_secret] * 3
        assert asked == [made.client.id], "read from the registry once"
        assert secrets(None) is None and secrets("cl-nobody") is None and secrets("cl-nobody") is None
        assert asked == [made.client.id, "cl-nobody", "cl-nobody"], "no client is not kept, nor asked for None"

        later = made_here.create("later-bot")  # made elsewhere (another node, `run.py client create`)
        made_here.revoke(made.client.id)

        assert secrets(later.client.id) == later.signing_secret
        assert secrets(made.client.id) == made.signing_secret == seen_there.signing_secret(made.client.id), (
            "a revoke refuses the token only: the kept secret is still the registry's"
        )


@both_backends
def test_unknown_tokens_and_ids_are_refused(store: EventLog) -> None:
    with clients_of(store) as clients:
        made = clients.create("bot")
        assert clients.authenticate(made.token[:-1] + ("A" if made.token[-1] != "A" else "B")) is None
        assert clients.authenticate(hash_token(made.token)) is None, "the stored hash is no token"
        assert clients.authenticate("") is None
        assert clients.signing_secret(None) is None
        assert clients.signing_secret("cl-nobody") is None
        for unknown in ("cl-nobody", ""):
            with pytest.raises(UnknownClient):
                clients.get(unknown)
            with pytest.raises(UnknownClient):
                clients.revoke(unknown)


@both_backends
def test_list_is_every_client_oldest_first_revoked_ones_too(store: EventLog) -> None:
    with clients_of(store) as clients:
        first = clients.create("first", admin=True).client
        second = clients.create("second").client
        clients.revoke(first.id)

        listed = clients.list()

    assert [(client.id, client.name, client.admin) for client in listed] == [
        (first.id, "first", True),
        (second.id, "second", False),
    ]
    assert listed[0].revoked and not listed[1].revoked


@both_backends
def test_no_token_is_kept_and_no_client_is_an_event(store: EventLog) -> None:
    with clients_of(store) as clients:
        made = clients.create("bot")
    assert store.read_all() == [], "a client is no event: exports and replays never carry its secrets"
    if hasattr(store, "client"):
        items = store.client.scan(TableName=store.table)["Items"]
        assert made.token not in repr(items) and hash_token(made.token) in repr(items)
    else:
        stored = b"".join(path.read_bytes() for path in store.path.parent.iterdir() if path.name.startswith("events.db"))
        assert made.token.encode() not in stored and hash_token(made.token).encode() in stored
