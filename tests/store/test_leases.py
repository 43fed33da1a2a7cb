"""Leases with fencing tokens in the log's table (store/leases.py), and appends fenced by them, against
moto's DynamoDB server. Time is a clock the test moves; DynamoDB never compares times itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from store import LeaseLost, NewEvent
from store.dynamo_event_store import DynamoEventStore
from store.event_log import EventLog
from store.leases import HeldLeases, Lease, LeaseTable
from tests.store.held_transaction import race_behind_a_held_transaction
from tests.store.test_concurrency import race
from tests.support.clocks import ManualClock

TICK = [NewEvent("Tick", b"{}")]
TTL = 30.0


@pytest.fixture
def backend() -> str:
    return "dynamodb"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def leases(store: DynamoEventStore, clock: ManualClock) -> LeaseTable:
    return LeaseTable(store._client, store.table, clock=clock)


def test_a_lease_is_created_then_refused_to_others_until_it_expires(leases: LeaseTable, clock: ManualClock) -> None:
    taken = leases.take("conversation-1", "a", TTL)
    assert taken == Lease("conversation-1", "a", 1, clock.now + TTL)
    assert leases.get("conversation-1") == taken

    clock.now += TTL - 1
    assert leases.take("conversation-1", "b", TTL) is None
    assert leases.expired() == []

    clock.now += 1
    assert leases.expired() == [taken]
    stolen = leases.take("conversation-1", "b", TTL)
    assert stolen == Lease("conversation-1", "b", 2, clock.now + TTL)
    assert leases.get("conversation-1") == stolen


def test_a_renewal_keeps_what_is_held_and_reports_what_was_taken(leases: LeaseTable, clock: ManualClock) -> None:
    mine = [leases.take(f"conversation-{n}", "a", TTL) for n in range(3)]
    assert all(mine)
    clock.now += TTL  # all three expired; one is taken by b
    stolen = leases.take("conversation-1", "b", TTL)
    assert stolen is not None

    clock.now += 1
    held, lost = leases.renew([lease for lease in mine if lease], TTL)

    assert [(lease.name, lease.token, lease.expires_at) for lease in held] == [
        ("conversation-0", 1, clock.now + TTL),
        ("conversation-2", 1, clock.now + TTL),
    ]
    assert lost == [mine[1]]
    assert leases.get("conversation-0") == held[0]
    assert leases.get("conversation-1") == stolen  # untouched by a's renewal
    # A renewal held past the expiry (no one took it) holds it again; a lone one is a plain update.
    assert leases.renew([held[0]], TTL) == ([Lease("conversation-0", "a", 1, clock.now + TTL)], [])
    assert leases.renew([mine[1]], TTL) == ([], [mine[1]])


def held_by(owner: str, leases: LeaseTable) -> HeldLeases[str]:
    """`owner`'s map of held leases, keyed by a conversation id as the cluster's is."""
    return HeldLeases(leases, owner, TTL, name_of=lambda key: f"conversation-{key}")


def test_a_held_map_keeps_each_renewal_and_drops_what_another_owner_took(leases: LeaseTable, clock: ManualClock) -> None:
    a = held_by("a", leases)
    assert all(a.take(key) for key in ("0", "1", "2"))
    assert a.take("0") == a.get("0")  # held: no second take, the same token
    clock.now += TTL
    assert held_by("b", leases).take("1") is not None

    clock.now += 1
    assert a.renew() == ["1"]

    assert sorted(a.keys()) == ["0", "2"] and a.get("1") is None
    assert a.get("0") == Lease("conversation-0", "a", 1, clock.now + TTL) == leases.get("conversation-0")


def test_a_held_map_that_cannot_reach_dynamodb_loses_only_what_has_run_out_by_its_clock(
    leases: LeaseTable, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = held_by("a", leases)
    early = a.take("early")
    clock.now += TTL / 2
    late = a.take("late")

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("DynamoDB out of reach")

    monkeypatch.setattr(leases, "renew", unreachable)
    assert a.renew() == []
    clock.now += TTL / 2  # early has run out, late has not
    assert a.renew() == ["early"]
    assert a.keys() == ["late"] and a.get("late") == late and early is not None


def test_a_renewal_leaves_a_lease_forgotten_or_taken_again_meanwhile_as_it_is_now(
    leases: LeaseTable, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renewal answers for the leases it sent: one the map forgot while it ran (its conversation ended)
    is not held again, and one lost and taken again under a new token meanwhile is neither dropped nor
    reported lost."""
    a = held_by("a", leases)
    first = a.take("again")
    assert a.take("ended") and first is not None
    clock.now += TTL
    stolen = held_by("b", leases).take("again")
    assert stolen is not None
    renew = leases.renew

    def while_renewing(sent: list[Lease], ttl: float) -> tuple[list[Lease], list[Lease]]:
        answer = renew(sent, ttl)
        a.forget("ended")
        a.forget("again", first.token)  # a fenced write found it b's
        clock.now += TTL  # b's lease ran out: a takes it back, with a new token
        assert a.take("again") is not None
        return answer

    monkeypatch.setattr(leases, "renew", while_renewing)
    assert a.renew() == []

    assert a.get("ended") is None
    assert a.get("again") == leases.get("conversation-again") and a.get("again").token == stolen.token + 1  # type: ignore[union-attr]


def test_a_fenced_write_forgets_only_the_lease_at_its_token(leases: LeaseTable) -> None:
    a = held_by("a", leases)
    first = a.take("c")
    assert first is not None
    assert a.forget("c", first.token + 1) is None and a.get("c") == first
    assert a.forget("c", first.token) == first and a.get("c") is None


def test_releasing_every_held_lease_goes_on_past_one_that_fails(
    leases: LeaseTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = held_by("a", leases)
    assert a.take("stuck") and a.take("free")
    release = leases.release

    def refuse_stuck(lease: Lease) -> bool:
        if lease.name == "conversation-stuck":
            raise ConnectionError("DynamoDB out of reach")
        return release(lease)

    monkeypatch.setattr(leases, "release", refuse_stuck)
    a.release_all()

    assert a.keys() == []
    b = held_by("b", leases)
    assert b.take("free") is not None  # at once, not after the lease time
    assert b.take("stuck") is None  # runs out by itself


def test_two_takers_never_both_win_the_token_they_read(leases: LeaseTable, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    first = leases.take("conversation-1", "a", TTL)
    clock.now += TTL
    read_before = leases.get("conversation-1")
    assert leases.take("conversation-1", "b", TTL) is not None
    # c read the item before b took it: its take is conditional on that token, and fails.
    monkeypatch.setattr(leases, "get", lambda name: read_before)

    assert leases.take("conversation-1", "c", TTL) is None
    assert first is not None and read_before == first


def test_a_release_lets_another_node_take_at_once_with_a_larger_token(leases: LeaseTable) -> None:
    held = leases.take("conversation-1", "a", TTL)
    assert held is not None
    assert leases.release(held) is True
    assert leases.release(held) is True  # still a's, only expired
    taken = leases.take("conversation-1", "b", TTL)

    assert taken is not None and taken.token == 2
    assert leases.release(held) is False
    assert leases.get("conversation-1") == taken


def test_the_same_owner_takes_its_own_lease_again_with_a_new_token(leases: LeaseTable) -> None:
    before = leases.take("conversation-1", "a", TTL)
    again = leases.take("conversation-1", "a", TTL)  # the node restarted under the same id

    assert before is not None and again is not None and again.token == before.token + 1
    assert leases.renew([before], TTL) == ([], [before])


def test_a_fenced_append_of_a_node_that_lost_its_lease_writes_nothing(
    store: DynamoEventStore, leases: LeaseTable, clock: ManualClock
) -> None:
    mine = leases.take("conversation-1", "a", TTL)
    assert mine is not None
    assert store.append("conversation-1", TICK, 0, fence=mine) == 1
    clock.now += TTL
    theirs = leases.take("conversation-1", "b", TTL)
    assert theirs is not None

    with pytest.raises(LeaseLost) as refused:
        store.append("conversation-1", TICK, 1, fence=mine)

    assert (refused.value.stream, refused.value.owner, refused.value.token) == ("conversation-1", "a", 1)
    assert store.stream_version("conversation-1") == 1
    assert [e.position for e in store.read_all()] == [1]
    assert store.append("conversation-1", TICK, 1, fence=theirs) == 2
    assert [e.position for e in store.read_all()] == [1, 2]


def test_a_fenced_append_of_a_lease_never_taken_is_refused(store: DynamoEventStore) -> None:
    with pytest.raises(LeaseLost):
        store.append("conversation-1", TICK, 0, fence=Lease("conversation-1", "a", 1, 0.0))
    assert store.stream_version("conversation-1") == 0


def test_in_group_commit_an_append_whose_lease_is_lost_fails_alone(
    store: DynamoEventStore, leases: LeaseTable, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = leases.take("conversation-lost", "a", TTL)
    kept = [leases.take(f"conversation-{n}", "a", TTL) for n in range(3)]
    clock.now += TTL
    assert leases.take("conversation-lost", "b", TTL) is not None
    kept = [leases.renew([lease], TTL)[0][0] for lease in kept if lease]
    contenders: list[Callable[[], object]] = [lambda: store.append("conversation-lost", TICK, 0, fence=lost)]
    contenders += [lambda lease=lease: store.append(lease.name, TICK, 0, fence=lease) for lease in kept]
    results, batches_before = race_behind_a_held_transaction(store, monkeypatch, contenders)

    assert isinstance(results[0], LeaseLost)
    assert results[1:] == [1, 1, 1]
    assert store.stats().batches == batches_before + 2  # one refused on the lease, one without it
    assert sorted(e.stream for e in store.read_all()) == ["conversation-0", "conversation-1", "conversation-2", "first"]


def test_appends_fenced_by_one_lease_never_share_a_transaction(store: DynamoEventStore, leases: LeaseTable) -> None:
    lease = leases.take("shared", "a", TTL)
    assert lease is not None
    results = race(*[lambda n=n: store.append(f"stream-{n}", TICK, 0, fence=lease) for n in range(4)])

    assert results == [1, 1, 1, 1]


def test_the_store_offers_its_leases_on_its_own_client(store: EventLog) -> None:
    assert isinstance(store, DynamoEventStore)
    table = store.leases()
    assert table.take("x", "a", TTL) is not None
    assert table.get("x") is not None and table.get("x").owner == "a"  # type: ignore[union-attr]
