"""Webhook delivery with several nodes on one DynamoDB log (two stores on one moto table, a deliverer
on each): each bot's messages are posted by the node holding its delivery lease, once; a node that dies
hands its bots to another, which continues from the checkpoints in the table; and a node that lost a
bot's lease cannot move its checkpoints.

The leases last 600 s, so no pass runs by itself during a test: the test runs it (`lease_pass`) with the
node's lease clock moved. Nothing sleeps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from delivery import WebhookDeliverer
from delivery.checkpoint import Checkpoints
from delivery.ownership import DeliveryLeases, lease_name
from delivery.table_checkpoints import TableCheckpoints
from store.dynamo_event_store import DynamoEventStore
from store.leases import LeaseTable
from tests.delivery.conversations import append, whole
from tests.delivery.deliverers import ids, start, told
from tests.delivery.polling import eventually
from tests.delivery.receiver import Receiver
from tests.support.aws_roles import Clock
from tests.support.dynamodb import fresh_table, open_dynamo_store

LEASE_SECONDS = 600.0


@dataclass
class Node:
    store: DynamoEventStore
    leases: DeliveryLeases
    clock: Clock

    def deliver(self, deliverers: list[WebhookDeliverer], *clients: str) -> WebhookDeliverer:
        """A deliverer on this node that knows of `clients` (and takes their leases if no one holds them)."""
        return start(self.store, deliverers, leases=self.leases, known_clients=lambda: list(clients))


@pytest.fixture
def table(dynamodb_endpoint: str, dynamodb_credentials: None) -> str:
    return fresh_table(dynamodb_endpoint)


@pytest.fixture
def nodes(tmp_path: Path, dynamodb_endpoint: str, table: str) -> Iterator[tuple[Node, Node]]:
    made = []
    for name in ("a", "b"):
        store = open_dynamo_store(dynamodb_endpoint, table, tmp_path / f"{name}.db")
        clock = Clock()
        made.append(Node(store, DeliveryLeases(LeaseTable(store.client, table, clock=clock), f"node-{name}", LEASE_SECONDS), clock))
    yield made[0], made[1]
    for node in made:
        node.store.close()


def conversation(receiver: Receiver, conversation_id: str, client_id: str) -> list:
    return whole(conversation_id, receiver.url(conversation_id), agent_messages=1, client_id=client_id)


def test_each_bot_s_messages_are_posted_once_by_the_node_holding_its_lease(
    nodes: tuple[Node, Node], receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    a, b = nodes
    at_a = a.deliver(deliverers, "bot-1")  # takes bot-1 (and the conversations from before clients)
    at_b = b.deliver(deliverers, "bot-1", "bot-2")  # bot-1 is a's: takes bot-2
    assert (a.leases.held("bot-1") is not None, b.leases.held("bot-1"), b.leases.held("bot-2") is not None) == (
        True, None, True,
    )
    # Each conversation written through the node that does not deliver it, and the other way round.
    append(b.store, "one", conversation(receiver, "one", "bot-1"))
    append(a.store, "two", conversation(receiver, "two", "bot-2"))

    receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(a.store, c)) for c in ("one", "two")))

    assert ids(receiver.accepted("one")) == told(a.store, "one")
    assert ids(receiver.accepted("two")) == told(a.store, "two")
    assert len(receiver.requests) == len(told(a.store, "one")) + len(told(a.store, "two")), "nothing twice"
    assert (at_a.stats().delivered, at_b.stats().delivered) == (len(told(a.store, "one")), len(told(a.store, "two")))
    checkpoints = TableCheckpoints(a.store.client, a.store.table)
    assert checkpoints.progress("bot-2", "two") == (int(told(a.store, "two")[-1].split(":")[1]), True)
    assert checkpoints.owed("bot-1") == checkpoints.owed("bot-2") == []


def test_a_node_that_dies_hands_its_bots_to_another_which_continues_from_the_checkpoint(
    nodes: tuple[Node, Node], receiver: Receiver, deliverers: list[WebhookDeliverer], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = nodes
    at_a = a.deliver(deliverers, "bot-1")
    at_b = b.deliver(deliverers, "bot-1")
    events = conversation(receiver, "long", "bot-1")
    half = len(events) // 2
    append(a.store, "long", events[:half])
    first = told(a.store, "long")
    receiver.wait_until(lambda r: len(r.accepted("long")) == len(first))
    # A dies: its threads stop with their POSTs recorded, and its leases stay until they expire.
    monkeypatch.setattr(a.leases, "release_all", lambda: None)
    at_a.stop()
    append(b.store, "long", events[half:])  # B only sees it owed: bot-1 is still A's
    # B restarts once its tail is past the conversation: only the table says what bot-1 is owed now.
    local = Checkpoints(b.store.path)
    eventually(lambda: local.tail_position() == b.store.last_position())
    local.close()
    at_b.stop()
    at_b = b.deliver(deliverers, "bot-1")

    b.clock.advance(LEASE_SECONDS + 1)
    at_b.lease_pass()

    receiver.wait_until(lambda r: len(r.accepted("long")) == len(told(b.store, "long")))
    assert ids(receiver.accepted("long")) == told(b.store, "long")
    assert len(receiver.requests) == len(told(b.store, "long")), "from the checkpoint, not from the start"
    assert at_b.stats().delivered == len(told(b.store, "long")) - len(first)
    assert b.leases.held("bot-1").token == 2


def test_a_node_that_lost_a_bot_s_lease_cannot_move_its_checkpoints_and_stops_delivering_for_it(
    nodes: tuple[Node, Node], receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    a, b = nodes
    at_a = a.deliver(deliverers, "bot-1")
    at_b = b.deliver(deliverers, "bot-1")
    b.clock.advance(LEASE_SECONDS + 1)
    at_b.lease_pass()  # B takes bot-1 over; A has run no pass since and still believes it holds it
    assert a.leases.held("bot-1") is not None and b.leases.held("bot-1").token == 2

    append(a.store, "moved", conversation(receiver, "moved", "bot-1"))

    receiver.wait_until(lambda r: {m.message["Id"] for m in r.accepted("moved")} == set(told(a.store, "moved")))
    told_ids, got = told(a.store, "moved"), ids(receiver.accepted("moved"))
    extra = Counter(got) - Counter(told_ids)
    # A posted at most the first message before its checkpoint was refused; B posted all, in order.
    assert sum(extra.values()) == at_a.stats().delivered <= 1 and set(extra) <= {told_ids[0]}
    if extra:
        del got[len(got) - 1 - got[::-1].index(told_ids[0])]  # one copy of it, wherever A's fell
    assert got == told_ids
    assert a.leases.held("bot-1") is None
    last = int(told(a.store, "moved")[-1].split(":")[1])
    assert TableCheckpoints(a.store.client, a.store.table).progress("bot-1", "moved") == (last, True)
    assert LeaseTable(a.store.client, a.store.table).get(lease_name("bot-1")).owner == "node-b"


def test_a_bot_taken_over_while_the_tail_first_meets_one_of_its_conversations_mid_stream_loses_nothing(
    nodes: tuple[Node, Node], receiver: Receiver, deliverers: list[WebhookDeliverer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """B restarts past messages A never posted (A died); its leases' thread takes the bot over while its
    tail reads the page where it first meets the conversation again, before the tail adopts the bot: the
    new outbox must not take that event in hand and skip what lies between the checkpoint and it."""
    a, b = nodes
    events = whole("mid", receiver.url("mid"), agent_messages=6, client_id="bot-1")
    first, second = len(events) // 3, 2 * len(events) // 3
    at_a = a.deliver(deliverers, "bot-1")
    at_b = b.deliver(deliverers, "bot-1")
    append(a.store, "mid", events[:first])
    delivered = told(a.store, "mid")
    receiver.wait_until(lambda r: len(r.accepted("mid")) == len(delivered))
    monkeypatch.setattr(a.leases, "release_all", lambda: None)
    at_a.stop()  # A dies holding bot-1
    append(a.store, "mid", events[first:second])  # never posted: only B's tail sees it, as owed elsewhere
    assert len(told(a.store, "mid")) > len(delivered)
    local = Checkpoints(b.store.path)
    eventually(lambda: local.tail_position() == b.store.last_position())
    local.close()
    at_b.stop()
    at_b = b.deliver(deliverers, "bot-1")  # bot-1 still A's: B only records what it sees as owed

    read_all = b.store.read_all

    def lease_taken_while_reading(after_position: int = 0, limit: int = 1000) -> list:
        page = read_all(after_position=after_position, limit=limit)
        if page and b.leases.held("bot-1") is None:
            b.clock.advance(LEASE_SECONDS + 1)
            at_b.lease_pass()  # the leases' thread, at this moment
        return page

    monkeypatch.setattr(b.store, "read_all", lease_taken_while_reading)
    append(a.store, "mid", events[second:])  # written by another node: B's tail reads it from the log

    receiver.wait_until(lambda r: any(m.message["Type"] == "ReturnedToBot" for m in r.accepted("mid")))
    assert ids(receiver.accepted("mid")) == told(b.store, "mid")
