"""Failover orders with several nodes on one log (two stores on one DynamoDB table in moto): the order
and every worker change reach each node, and each node gives the order to its own conversations,
whichever node recorded it carried out first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.worker import WorkerState
from service.failover_orders import FailoverOrders
from store.dynamo_event_store import DynamoEventStore
from store.workers import WorkerRegistry
from tests.events.scenario import worker_config
from tests.support.dynamodb import fresh_table, open_dynamo_store


@pytest.fixture
def two_nodes(tmp_path: Path, dynamodb_endpoint: str, dynamodb_credentials: None) -> Iterator[tuple[DynamoEventStore, DynamoEventStore]]:
    table = fresh_table(dynamodb_endpoint)
    with (
        open_dynamo_store(dynamodb_endpoint, table, tmp_path / "a.db") as a,
        open_dynamo_store(dynamodb_endpoint, table, tmp_path / "b.db") as b,
    ):
        yield a, b


class Node:
    """One node's conversations of the worker, and the orders its FailoverOrders gave them."""

    def __init__(self, store: DynamoEventStore, conversations: list[str], *, every_node: bool = True) -> None:
        self.conversations = list(conversations)
        self.given: list[tuple[str, int]] = []
        self.looks = 0  # how often FailoverOrders asked for the node's conversations
        self.gave = threading.Condition()
        self.orders = FailoverOrders(
            store, conversations_of=self.conversations_of, take_order=self.take,
            every_node=every_node, poll_seconds=0.01,
        )

    def conversations_of(self, worker_id: str) -> list[str]:
        with self.gave:
            self.looks += 1
            self.gave.notify_all()
            return list(self.conversations)

    def wait_looks(self, more: int) -> None:
        with self.gave:
            at_least = self.looks + more
            assert self.gave.wait_for(lambda: self.looks >= at_least, timeout=10)

    def take(self, conversation_id: str, worker: WorkerState) -> None:
        with self.gave:
            self.given.append((conversation_id, worker.failover_order))
            self.gave.notify_all()

    def wait_given(self, conversation_id: str) -> None:
        with self.gave:
            assert self.gave.wait_for(lambda: any(c == conversation_id for c, _ in self.given), timeout=10)



def test_each_node_gives_an_order_to_its_own_conversations_whoever_recorded_it_first(
    two_nodes: tuple[DynamoEventStore, DynamoEventStore],
) -> None:
    a_store, b_store = two_nodes
    worker_id = WorkerRegistry(a_store).create(worker_config(), at=1.0)
    WorkerRegistry(b_store).failover(worker_id, to="us-west-2-oregon", mode="move", at=2.0)  # given at node b
    a, b = Node(a_store, ["a-1", "a-2"]), Node(b_store, ["b-1"])

    assert a.orders.carry_out(worker_id)
    assert WorkerRegistry(b_store).state(worker_id).carried_out == 2, "node a's record is seen at node b"
    assert b.orders.carry_out(worker_id)

    assert sorted(a.given) == [("a-1", 2), ("a-2", 2)]
    assert b.given == [("b-1", 2)], "recorded as carried out by a, still given to b's own conversation"
    assert WorkerRegistry(a_store).state(worker_id).version == 3, "recorded once: one FailoverCarriedOut"


def test_a_single_node_skips_an_order_recorded_as_carried_out_as_it_always_did(
    two_nodes: tuple[DynamoEventStore, DynamoEventStore],
) -> None:
    """Why `every_node`: without it, a node believes the record, and its own conversations keep the old region."""
    a_store, b_store = two_nodes
    worker_id = WorkerRegistry(a_store).create(worker_config(), at=1.0)
    WorkerRegistry(a_store).failover(worker_id, to="us-west-2-oregon", mode="move", at=2.0)
    a, b = Node(a_store, ["a-1"], every_node=False), Node(b_store, ["b-1"], every_node=False)

    assert a.orders.carry_out(worker_id) and b.orders.carry_out(worker_id)

    assert (a.given, b.given) == ([("a-1", 2)], [])


def test_a_running_node_gives_orders_from_another_node_and_to_conversations_it_takes_over_later(
    two_nodes: tuple[DynamoEventStore, DynamoEventStore],
) -> None:
    a_store, b_store = two_nodes
    worker_id = WorkerRegistry(a_store).create(worker_config(), at=1.0)
    b = Node(b_store, ["b-1"])
    b.orders.start()
    try:
        WorkerRegistry(a_store).failover(worker_id, to="us-west-2-oregon", mode="move", at=2.0)
        b.wait_given("b-1")
        with b.gave:
            assert b.gave.wait_for(lambda: WorkerRegistry(b_store).state(worker_id).carried_out == 2, timeout=10)
        b.wait_looks(3)  # passes after the one that saw the record: nothing changes in the log any more

        b.conversations.append("taken-over")  # say node a died and b took its conversation over
        b.wait_given("taken-over")

        back = WorkerRegistry(a_store).failover(worker_id, to=None, mode="drain", at=3.0).failover_order
        with b.gave:
            assert b.gave.wait_for(lambda: len(b.given) == 4, timeout=10)
    finally:
        b.orders.stop()
    assert b.given[:2] == [("b-1", 2), ("taken-over", 2)]
    assert sorted(b.given[2:]) == [("b-1", back), ("taken-over", back)], "each order once to each conversation"


def test_a_worker_changed_through_one_node_is_read_as_changed_at_the_other(
    two_nodes: tuple[DynamoEventStore, DynamoEventStore],
) -> None:
    a_store, b_store = two_nodes
    worker_id = WorkerRegistry(a_store).create(worker_config(), at=1.0)
    seen_at_b = WorkerRegistry(b_store).state(worker_id)
    changed = worker_config(active_failover="us-west-2-oregon")

    WorkerRegistry(a_store).update(worker_id, changed, at=2.0)

    assert WorkerRegistry(b_store).get(worker_id) == changed != seen_at_b.config
    assert b_store.stream_versions("worker-")["worker-" + worker_id] == seen_at_b.version + 1
    WorkerRegistry(a_store).delete(worker_id, at=3.0)
    assert WorkerRegistry(b_store).list() == {}
