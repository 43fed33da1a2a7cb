"""A cluster node's leases (cluster/node.py) against moto's DynamoDB, without a service: what it takes at
start, what a pass renews, takes over and gives up, and what a clean stop lets go. The nodes' own
passes never run here (leases of 600 s); the test runs each pass itself, with the clocks it moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster import ClusterNode, NodeTable, OwnedElsewhere
from cluster.node import ABANDONED_AFTER_LEASES
from store import NewEvent
from store.conversations import conversation_stream
from store.dynamo_event_store import DynamoEventStore
from store.leases import Lease, LeaseTable
from tests.store.test_concurrency import race
from tests.support.clocks import ManualClock
from tests.support.dynamodb import fresh_table, open_dynamo_store

LEASE_SECONDS = 600.0


class Service:
    """What the node tells the worker service, kept."""

    def __init__(self, store: DynamoEventStore) -> None:
        self.store = store
        self.lost: list[str] = []
        self.taken: list[str] = []
        self.held: list[list[str]] = []  # at each pass, the live conversations it was told are held
        self.unborn: list[list[str]] = []  # at each pass, the conversations not live it was told are held
        self.failing: set[str] = set()  # conversations whose resumption raises

    def live(self) -> list[str]:
        return [name.removeprefix(conversation_stream("")) for name in self.store.open_streams(conversation_stream(""))]

    def lease_lost(self, conversation_id: str) -> None:
        self.lost.append(conversation_id)

    def take_over(self, conversation_id: str) -> None:
        self.taken.append(conversation_id)
        if conversation_id in self.failing:
            raise ConnectionError("the log could not be read")

    def revive_idle(self, held: list[str]) -> None:
        self.held.append(sorted(held))

    def forget_unborn(self, held: list[str]) -> None:
        self.unborn.append(held)

    def version(self, conversation_id: str) -> int:
        return self.store.stream_version(conversation_stream(conversation_id))


@pytest.fixture
def store(tmp_path: Path, dynamodb_endpoint: str, dynamodb_credentials: None) -> Iterator[DynamoEventStore]:
    with open_dynamo_store(dynamodb_endpoint, fresh_table(dynamodb_endpoint), tmp_path / "events.db") as opened:
        yield opened


def node(store: DynamoEventStore, name: str, clock: ManualClock) -> tuple[ClusterNode, Service]:
    made = ClusterNode(LeaseTable(store.client, store.table, clock=clock), NodeTable(store.client, store.table), name, LEASE_SECONDS)
    service = Service(store)
    made.start(service, f"http://{name}.example:8080")
    return made, service


def live(store: DynamoEventStore, *conversation_ids: str) -> None:
    for conversation_id in conversation_ids:
        store.append(conversation_stream(conversation_id), [NewEvent("Transferred", b"{}")], 0)


def test_a_call_for_a_conversation_another_node_holds_names_it_and_its_url(store: DynamoEventStore) -> None:
    clock = ManualClock()
    a, _ = node(store, "a", clock)
    b, _ = node(store, "b", clock)
    a.claim("c-1")

    with pytest.raises(OwnedElsewhere) as elsewhere:
        b.claim("c-1")

    assert (elsewhere.value.owner, elsewhere.value.url, elsewhere.value.retry_after) == ("a", "http://a.example:8080", 600)
    a.stop()
    b.stop()


def test_a_pass_takes_over_what_has_expired_and_the_old_owner_learns_it_lost_it(store: DynamoEventStore) -> None:
    a_clock, b_clock = ManualClock(), ManualClock()
    a, a_service = node(store, "a", a_clock)
    b, b_service = node(store, "b", b_clock)
    a.claim("c-1")
    a.claim("c-2")
    live(store, "c-1", "c-2")

    b.tick()
    assert b_service.taken == [] and b.held() == []
    b_clock.now += LEASE_SECONDS  # a has not renewed for its lease's time
    b.tick()
    assert b_service.taken == ["c-1", "c-2"] and b.held() == ["c-1", "c-2"]

    a.tick()
    assert a_service.lost == ["c-1", "c-2"] and a.held() == []
    assert b.fence("c-1") is not None and b.fence("c-1").token == 2  # type: ignore[union-attr]
    a.stop()
    b.stop()


def test_a_takeover_whose_resumption_failed_keeps_its_lease_and_is_named_held_at_the_next_pass(
    store: DynamoEventStore,
) -> None:
    a_clock, b_clock = ManualClock(), ManualClock()
    a, _ = node(store, "a", a_clock)
    b, b_service = node(store, "b", b_clock)
    a.claim("c-1")
    a.claim("c-2")
    live(store, "c-1", "c-2", "c-3")  # c-3: live, no lease anywhere (from before the cluster)
    b_service.failing = {"c-1"}
    b_clock.now += LEASE_SECONDS
    b.claim("fresh")  # a transfer under way: held, not live yet, so not one to start

    b.tick()  # c-1's resumption raises: the pass goes on with c-2 and c-3
    assert b_service.taken == ["c-1", "c-2", "c-3"] and b.held() == ["c-1", "c-2", "c-3", "fresh"]
    b.tick()  # what it holds is named, so that the service starts any actor that is not running

    assert b_service.held[-1] == ["c-1", "c-2", "c-3"]
    a.stop()
    b.stop()


def test_a_node_asks_the_table_whether_it_still_holds_a_lease_and_forgets_one_taken(store: DynamoEventStore) -> None:
    a_clock, b_clock = ManualClock(), ManualClock()
    a, _ = node(store, "a", a_clock)
    b, _ = node(store, "b", b_clock)
    a.claim("c-1")
    assert a.still_holds("c-1")
    b_clock.now += LEASE_SECONDS + 1
    b.claim("c-1")  # a's renewal is late: b takes it; a does not know yet

    assert a.fence("c-1") is not None and not a.still_holds("c-1")
    assert a.fence("c-1") is None and b.still_holds("c-1") and not b.still_holds("never-claimed")
    a.stop()
    b.stop()


def test_a_node_that_cannot_renew_gives_up_what_has_expired_by_its_own_clock(
    store: DynamoEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    a, service = node(store, "a", clock)
    a.claim("c-1")

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("DynamoDB out of reach")

    monkeypatch.setattr(a._leases, "renew", unreachable)
    monkeypatch.setattr(a, "_announce", lambda: None)
    monkeypatch.setattr(a, "_take_over", lambda conversations: None)
    a.tick()
    assert service.lost == [] and a.held() == ["c-1"]  # not expired yet: kept
    clock.now += LEASE_SECONDS
    a.tick()
    assert service.lost == ["c-1"] and a.held() == []
    a.stop()


def test_at_start_a_node_takes_only_what_no_live_node_holds(store: DynamoEventStore) -> None:
    clock = ManualClock()
    a, _ = node(store, "a", clock)
    a.claim("held-by-a")
    before_its_restart, _ = node(store, "b", clock)
    before_its_restart.claim("b-before-its-restart")
    before_its_restart.stop_passes()  # killed: nothing released
    restarted, _ = node(store, "b", clock)  # the same node id, started again: its leases are its own to take again

    taken = restarted.claim_live(["held-by-a", "b-before-its-restart", "never-leased"])

    assert taken == ["b-before-its-restart", "never-leased"]
    assert restarted.fence("b-before-its-restart").token == 2  # type: ignore[union-attr]
    a.stop()
    restarted.stop()


def test_a_clean_stop_lets_another_node_take_over_at_once(store: DynamoEventStore) -> None:
    clock = ManualClock()
    a, _ = node(store, "a", clock)
    b, b_service = node(store, "b", clock)
    a.claim("c-1")
    live(store, "c-1")

    a.stop()
    assert NodeTable(store.client, store.table).get("a").expires_at == 0  # type: ignore[union-attr]
    b.tick()

    assert b_service.taken == ["c-1"]
    b.stop()


def test_an_ended_conversations_lease_goes(store: DynamoEventStore) -> None:
    clock = ManualClock()
    a, _ = node(store, "a", clock)
    a.claim("c-1")

    a.let_go("c-1")

    assert a.held() == [] and a._leases.get(conversation_stream("c-1")) is None
    a.stop()


def test_a_pass_never_deletes_a_live_conversations_lease_its_holder_renewed_after_the_pass_read_it_expired(
    store: DynamoEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_clock, b_clock = ManualClock(), ManualClock()
    a, _ = node(store, "a", a_clock)
    b, b_service = node(store, "b", b_clock)
    held = a.claim("c-1")
    live(store, "c-1")
    b_clock.now += LEASE_SECONDS + 1  # b sees a's lease expired: a's renewal is late
    a_clock.now += LEASE_SECONDS / 2
    read = b._leases.all

    def read_then_a_renews() -> list[Lease]:
        leases = read()
        a.tick()  # late, but before b's take: b finds it renewed and leaves it to a
        return leases

    monkeypatch.setattr(b._leases, "all", read_then_a_renews)
    b.tick()

    assert b_service.taken == [] and a.held() == ["c-1"]
    kept = a._leases.get(conversation_stream("c-1"))
    assert kept is not None and (kept.owner, kept.token) == ("a", held.token)
    a.stop()
    b.stop()


def test_a_pass_deletes_the_lease_an_ended_conversation_left_behind_when_its_node_died_before_letting_go(
    store: DynamoEventStore,
) -> None:
    a_clock, b_clock = ManualClock(), ManualClock()
    a, _ = node(store, "a", a_clock)
    b, b_service = node(store, "b", b_clock)
    a.claim("ended")
    a.claim("open")
    a.claim("late")  # a transfer whose first event is late (or never comes: a died)
    store.append(conversation_stream("ended"), [NewEvent("Transferred", b"{}")], 0, closes_stream=True)
    live(store, "open")
    b.claim("fresh")  # a new transfer's lease, before its first event: not live yet, not expired

    b.tick()
    assert a._leases.get(conversation_stream("ended")) is not None  # not expired yet: left alone
    b_clock.now += LEASE_SECONDS  # a died before `let_go`: nothing renews its leases
    b.tick()

    assert a._leases.get(conversation_stream("ended")) is None
    assert b_service.taken == ["open"] and b.held() == ["fresh", "open"]
    assert a._leases.get(conversation_stream("late")) is not None  # its first event may still come
    b_clock.now += ABANDONED_AFTER_LEASES * LEASE_SECONDS + 1
    b.tick()
    assert a._leases.get(conversation_stream("late")) is None  # it never will
    a.stop()
    b.stop()


def test_claims_of_one_conversation_at_once_take_its_lease_once(store: DynamoEventStore) -> None:
    a, _ = node(store, "a", ManualClock())

    claimed = race(*[lambda: a.claim("c-1") for _ in range(4)])

    assert {lease.token for lease in claimed} == {1}  # type: ignore[attr-defined]
    assert a._leases.get(conversation_stream("c-1")).token == 1  # type: ignore[union-attr]
    a.stop()
