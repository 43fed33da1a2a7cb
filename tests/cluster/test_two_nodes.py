"""Two nodes in one process serving one DynamoDB log (moto's server) and one local Amazon Connect,
each with its own API and data folder: a call to either node for the other's conversation is answered
as by its owner; when the owner stops renewing, the other takes the conversation over and resumes it,
and the agent's lines reach the log once.

Time: the leases last 600 s, so the nodes' own passes never run during a test; the test runs each pass
itself (`ClusterNode.tick`), with node B's lease clock moved past A's leases. Nothing sleeps.

The bot's API client is made on A: it is in the table, so B knows it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cluster import ClusterNode, NodeTable
from commands.runtime import running_service
from connect_local import Config, LocalConnect
from service import WorkerService, local_regions
from service.demo_worker import ensure_demo_worker
from store.conversations import conversation_stream
from store.dynamo_event_store import DynamoEventStore
from store.leases import LeaseTable
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.crash.connect_side import ConnectSide
from tests.service.harness import Api, events_of, of_type, wait_for
from tests.support.aws_roles import Clock
from tests.support.dynamodb import fresh_table, open_dynamo_store

LEASE_SECONDS = 600.0


@dataclass
class Node:
    store: DynamoEventStore
    service: WorkerService
    cluster: ClusterNode
    api: Api
    clock: Clock


@dataclass
class Cluster:
    a: Node
    b: Node
    connect: LocalConnect
    worker_id: str

    def agent_takes(self, conversation_id: str) -> str:
        """The agent accepts the conversation's chat once it waits at Connect; its contact id."""
        state = lambda: self.a.service.state(conversation_id)  # noqa: E731
        wait_for(lambda: state().chat is not None, "the chat to start")
        contact_id = state().chat.contact_id
        self.agent.accept(contact_id, "Ana")
        wait_for(lambda: of_type(events_of(self.a.store, conversation_id), "AgentJoined"), "Ana to join")
        return contact_id

    @property
    def agent(self) -> ConnectSide:
        return ConnectSide(self.connect.ready_info())


@pytest.fixture
def two_nodes(
    tmp_path: Path, dynamodb_endpoint: str, dynamodb_credentials: None, start_server: Callable[[Config], LocalConnect]
) -> Iterator[Cluster]:
    connect = start_server(config_with([]))  # a person answers, through the agent API
    table = fresh_table(dynamodb_endpoint)
    with ExitStack() as stack:
        nodes = []
        token = ""
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            store = stack.enter_context(open_dynamo_store(dynamodb_endpoint, table, tmp_path / name / "events.db"))
            clock = Clock()
            leases = LeaseTable(store.client, table, clock=clock)
            cluster = ClusterNode(leases, NodeTable(store.client, table), f"node-{name}", LEASE_SECONDS)
            served = stack.enter_context(running_service(store, local_regions(connect.endpoint_url), cluster=cluster))
            if not token:
                token = served.clients.create("test-bot").token
            nodes.append(Node(store, served.service, cluster, Api(served.api_url, token), clock))
        worker_id = ensure_demo_worker(WorkerRegistry(nodes[0].store), connect.ready_info())
        yield Cluster(nodes[0], nodes[1], connect, worker_id)


def agent_lines(node: Node, conversation_id: str) -> list[str]:
    return [e.content for e in of_type(events_of(node.store, conversation_id), "AgentMessageReceived")]


def customer_lines(cluster: Cluster, contact_id: str) -> list[str]:
    items = cluster.connect.contact_record(contact_id)["Items"]
    return [item["Content"] for item in items if item["Type"] == "MESSAGE" and item["ParticipantRole"] == "CUSTOMER"]


def test_a_call_to_another_node_is_answered_as_by_the_conversations_owner(two_nodes: Cluster) -> None:
    a, b = two_nodes.a, two_nodes.b
    status, transferred = b.api.transfer("c-1", two_nodes.worker_id)  # the node that takes the lease runs it
    assert status == 201, transferred
    lease = a.cluster._leases.get(conversation_stream("c-1"))
    assert lease is not None and lease.owner == "node-b"
    contact_id = two_nodes.agent_takes("c-1")

    status, answer = a.api.say("c-1", "m-1", "hello from a")
    assert status == 202, answer
    wait_for(lambda: customer_lines(two_nodes, contact_id) == ["hello from a"], "the line to reach the agent")

    assert a.service.running_actor("c-1") is None and b.service.running_actor("c-1") is not None
    assert a.api.call("GET", "/v1/conversations/c-1") == b.api.call("GET", "/v1/conversations/c-1")
    # The owner's refusal is passed back as it gave it.
    status, refused = a.api.call("POST", "/v1/conversations/c-1/messages", {"MessageId": "m-2"})
    assert (status, refused["Code"]) == (400, "invalid_body")
    status, left = a.api.call("POST", "/v1/conversations/c-1/leave")
    assert status == 202, left
    wait_for(lambda: of_type(events_of(a.store, "c-1"), "ReturnedToBot"), "the hand-back")
    assert len(of_type(events_of(a.store, "c-1"), "UserMessageRequested")) == 1
    wait_for(lambda: a.cluster._leases.get(conversation_stream("c-1")) is None, "the ended conversation's lease to go")


def test_a_node_that_stops_renewing_is_taken_over_and_nothing_is_lost_or_doubled(two_nodes: Cluster) -> None:
    a, b = two_nodes.a, two_nodes.b
    assert a.api.transfer("c-2", two_nodes.worker_id)[0] == 201
    contact_id = two_nodes.agent_takes("c-2")
    assert a.api.say("c-2", "m-1", "before")[0] == 202
    two_nodes.agent.agent_says(contact_id, "answered before")
    wait_for(lambda: agent_lines(a, "c-2") == ["answered before"], "the agent's first line")
    # A hangs: its actor stops, its lease stays, and the agent writes while no node listens.
    a.service.lease_lost("c-2")
    wait_for(lambda: a.service.running_actor("c-2") is None, "A's actor to stop")
    two_nodes.agent.agent_says(contact_id, "said in the gap")

    b.clock.advance(LEASE_SECONDS + 1)  # A has not renewed for longer than its lease
    b.cluster.tick()

    lease = b.cluster._leases.get(conversation_stream("c-2"))
    assert lease is not None and (lease.owner, lease.token) == ("node-b", 2)
    assert b.service.running_actor("c-2") is not None
    # A's next pass finds the lease taken and stops its actor; A's appends were fenced meanwhile.
    a.cluster.tick()
    assert a.service.running_actor("c-2") is None and a.cluster.held() == []

    wait_for(lambda: agent_lines(b, "c-2") == ["answered before", "said in the gap"], "the gap filled by B")
    assert a.api.say("c-2", "m-2", "after")[0] == 202  # forwarded to B
    two_nodes.agent.agent_says(contact_id, "answered after")
    wait_for(lambda: len(agent_lines(b, "c-2")) == 3, "the agent's line after the takeover")
    assert b.api.call("POST", "/v1/conversations/c-2/leave")[0] == 202
    wait_for(lambda: of_type(events_of(b.store, "c-2"), "ReturnedToBot"), "the hand-back")

    events = events_of(b.store, "c-2")
    assert [e.content for e in of_type(events, "AgentMessageReceived")] == [
        "answered before",
        "said in the gap",
        "answered after",
    ]
    assert [e.bot_message_id for e in of_type(events, "UserMessageRequested")] == ["m-1", "m-2"]
    assert customer_lines(two_nodes, contact_id) == ["before", "after"]


def test_a_call_reaching_the_old_owner_before_it_knows_is_fenced_off_and_answered_by_the_new_one(
    two_nodes: Cluster,
) -> None:
    a, b = two_nodes.a, two_nodes.b
    assert a.api.transfer("c-3", two_nodes.worker_id)[0] == 201
    contact_id = two_nodes.agent_takes("c-3")
    b.clock.advance(LEASE_SECONDS + 1)
    b.cluster.tick()  # B takes c-3 over; A has not run a pass since, and still believes it holds it
    assert a.cluster.held() == ["c-3"] and a.service.running_actor("c-3") is not None

    status, answer = a.api.say("c-3", "m-1", "to the old owner")

    assert status == 202, answer
    assert a.service.running_actor("c-3") is None and a.cluster.held() == []
    wait_for(lambda: customer_lines(two_nodes, contact_id) == ["to the old owner"], "the line to reach the agent")
    assert [e.bot_message_id for e in of_type(events_of(b.store, "c-3"), "UserMessageRequested")] == ["m-1"]


def test_a_transfer_whose_lease_another_node_took_before_its_first_event_is_answered_by_that_node(
    two_nodes: Cluster,
) -> None:
    a, b = two_nodes.a, two_nodes.b
    a.cluster.claim("c-4")  # A's transfer took the lease; its first event is late (a contended log)
    b.clock.advance(LEASE_SECONDS + 1)
    b.cluster.claim("c-4")  # expired by B's clock: B takes it; A still believes it holds it

    status, answer = a.api.transfer("c-4", two_nodes.worker_id)

    assert status == 201, answer
    assert b.service.running_actor("c-4") is not None and a.cluster.held() == []
    assert len(of_type(events_of(b.store, "c-4"), "Transferred")) == 1


def test_a_refused_transfer_leaves_no_lease_behind(two_nodes: Cluster) -> None:
    a = two_nodes.a

    status, error = a.api.transfer("c-5", two_nodes.worker_id, BotName="B" * 300)

    assert (status, error["Code"]) == (400, "invalid_display_name")
    assert a.cluster.held() == [] and a.cluster._leases.get(conversation_stream("c-5")) is None


def test_a_revive_that_finds_the_conversation_handed_back_lets_its_lease_go(two_nodes: Cluster) -> None:
    a = two_nodes.a
    assert a.api.transfer("c-6", two_nodes.worker_id)[0] == 201
    assert a.api.call("POST", "/v1/conversations/c-6/leave")[0] == 202
    wait_for(lambda: a.cluster._leases.get(conversation_stream("c-6")) is None, "the ended conversation's lease to go")
    a.cluster.claim("c-6")  # as if its actor fell at the hand-back, before letting the lease go

    a.service.revive("c-6")

    assert a.cluster.held() == [] and a.cluster._leases.get(conversation_stream("c-6")) is None
    assert a.service.running_actor("c-6") is None


class FailingAppends:
    """DynamoDB refuses, with a server error, every transaction that writes one conversation's stream
    while `failing` (the botocore client's call, on every node): its appends raise StoreWriteFailed, as
    under the three-node harness's load, and nothing of them is written."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, nodes: list[Node], conversation_id: str) -> None:
        self.failing = False
        self.refused = 0
        stream = conversation_stream(conversation_id)
        for node in nodes:
            send = node.store.client.transact_write_items

            def transact_write_items(send: Callable[..., object] = send, **request: object) -> object:
                if self.failing and f'"{stream}"' in repr(request).replace("'", '"'):
                    self.refused += 1
                    raise ClientError({"Error": {"Code": "InternalServerError", "Message": "refused by the test"}},
                                      "TransactWriteItems")
                return send(**request)

            monkeypatch.setattr(node.store.client, "transact_write_items", transact_write_items)


@pytest.mark.parametrize("appends_return", ["before the takeover", "after the takeover"])
def test_agent_lines_written_while_the_owners_actor_falls_reach_the_log_once_and_in_order_through_a_takeover(
    two_nodes: Cluster, monkeypatch: pytest.MonkeyPatch, appends_return: str
) -> None:
    """The three-node harness's loss (docs/cluster.md): the owner's actor dies of StoreWriteFailed on an
    agent's line and is started again while the agent writes on; then the owner loses the lease, and
    the node that takes the conversation over fills the gap from the last line recorded. The appends
    work again before the takeover (A's revived actor records the gap, B goes on from there) or only
    after it (A's revived actors fall too and are fenced off; B's fill records the whole gap)."""
    a, b = two_nodes.a, two_nodes.b
    assert a.api.transfer("c-7", two_nodes.worker_id)[0] == 201
    contact_id = two_nodes.agent_takes("c-7")
    two_nodes.agent.agent_says(contact_id, "#0")
    wait_for(lambda: agent_lines(a, "c-7") == ["#0"], "the agent's first line")
    fallen = a.service.running_actor("c-7")
    assert fallen is not None
    appends = FailingAppends(monkeypatch, [a, b], "c-7")
    appends.failing = True

    two_nodes.agent.agent_says(contact_id, "#1")  # its append fails: the actor falls, and is started again
    wait_for(lambda: not fallen.is_alive(), "A's actor to fall on the agent's line")
    two_nodes.agent.agent_says(contact_id, "#2")
    two_nodes.agent.agent_says(contact_id, "#3")
    if appends_return == "before the takeover":
        appends.failing = False
        wait_for(lambda: agent_lines(a, "c-7") == ["#0", "#1", "#2", "#3"], "the gap filled by A's revived actor")
    b.clock.advance(LEASE_SECONDS + 1)  # A has not renewed for longer than its lease
    b.cluster.tick()  # B takes it over
    a.cluster.tick()  # A finds its lease taken
    appends.failing = False

    wait_for(lambda: agent_lines(b, "c-7") == ["#0", "#1", "#2", "#3"], "the gap filled")
    two_nodes.agent.agent_says(contact_id, "#4")
    wait_for(lambda: len(agent_lines(b, "c-7")) == 5, "the agent's line after the takeover")
    assert agent_lines(b, "c-7") == ["#0", "#1", "#2", "#3", "#4"]
    assert appends.refused > 0 and a.cluster.held() == [] and a.service.running_actor("c-7") is None
    assert b.service.running_actor("c-7") is not None


def test_a_lease_held_for_a_conversation_that_never_began_is_let_go_at_the_second_pass(two_nodes: Cluster) -> None:
    a = two_nodes.a
    a.cluster.claim("c-6")  # as a first transfer whose actor's answer timed out leaves it: held, no stream

    a.cluster.tick()
    assert a.cluster.held() == ["c-6"]  # its first event may be late: one pass is not enough to tell

    a.cluster.tick()
    assert a.cluster.held() == [] and a.cluster._leases.get(conversation_stream("c-6")) is None
    assert a.api.transfer("c-6", two_nodes.worker_id)[0] == 201  # the id can be handed over after
    assert a.cluster.held() == ["c-6"]
