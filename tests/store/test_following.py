"""A follower is handed what each COMMIT wrote, exactly as the log holds it, before the appends return."""

from __future__ import annotations

import threading

from collections.abc import Callable

from store import ConcurrencyConflict, EventStore, NewEvent
from store.committed import CommittedBatch
from store.event_log import EventLog
from tests.store.conftest import both_backends


@both_backends
def test_the_handed_batches_are_the_log_in_commit_order_with_its_positions(store: EventStore, backend: str) -> None:
    handed: list[CommittedBatch] = []
    rounds = 30 if backend == "sqlite" else 5  # moto copies the table for each transaction: keep it small
    store.append("before-following", [NewEvent("A", b"0")], expected_version=0)
    store.follow(handed.append)

    def write(stream: str) -> None:
        for seq in range(rounds):
            store.append(stream, [NewEvent("A", f"{stream}-{seq}".encode()), NewEvent("B", b"")], expected_version=2 * seq)

    writers = [threading.Thread(target=write, args=(f"s-{n}",)) for n in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()

    events = [event for batch in handed for event in batch.events()]
    assert events == store.read_all(after_position=1, limit=10_000)
    assert len(events) == 8 * rounds * 2
    assert all(batch.first_position == batch.events()[0].position for batch in handed)
    assert all(len(batch) == batch.last_position - batch.first_position + 1 for batch in handed)


@both_backends
def test_a_batch_is_handed_before_its_appends_return_and_a_refused_append_is_not_in_it(store: EventStore) -> None:
    handed: list[CommittedBatch] = []
    store.follow(handed.append)
    store.append("s", [NewEvent("A", b"1")], expected_version=0)
    assert [event.seq for event in handed[-1].events()] == [1]

    try:
        store.append("s", [NewEvent("A", b"again")], expected_version=0)
    except ConcurrencyConflict:
        pass
    assert len(handed) == 1  # nothing committed, nothing handed


@both_backends
def test_events_after_a_position_skip_the_batch_s_first_ones(store: EventStore) -> None:
    handed: list[CommittedBatch] = []
    store.follow(handed.append)
    store.append("s", [NewEvent("A", str(n).encode()) for n in range(5)], expected_version=0)
    (batch,) = handed

    assert [event.data for event in batch.events(after_position=batch.first_position + 2)] == [b"3", b"4"]
    assert batch.events(after_position=batch.last_position) == []


@both_backends
def test_a_failing_follower_does_not_fail_the_append_and_an_unfollowed_one_is_handed_nothing(
    store: EventStore,
) -> None:
    handed: list[CommittedBatch] = []

    def broken(batch: CommittedBatch) -> None:
        raise RuntimeError("a bug in a follower")

    store.follow(broken)
    store.follow(handed.append)
    assert store.append("s", [NewEvent("A", b"1")], expected_version=0) == 1
    assert len(handed) == 1

    store.unfollow(handed.append)
    store.append("s", [NewEvent("A", b"2")], expected_version=1)
    assert len(handed) == 1
    assert len(store.read_stream("s")) == 2


@both_backends
def test_another_store_s_commits_are_handed_to_no_one_and_leave_a_gap_the_log_fills(
    open_store: Callable[[], EventLog],
) -> None:
    """Two nodes on one table (two processes on one file): each hands only its own commits; a follower
    sees the other's as a gap in positions, which `read_all` fills."""
    here, there = open_store(), open_store()
    handed: list[CommittedBatch] = []
    here.follow(handed.append)
    here.append("mine", [NewEvent("A", b"1")], expected_version=0)
    there.append("theirs", [NewEvent("B", b"2"), NewEvent("B", b"3")], expected_version=0)
    here.append("mine", [NewEvent("A", b"4")], expected_version=1)

    assert [(batch.first_position, batch.last_position) for batch in handed] == [(1, 1), (4, 4)]
    assert [event.data for event in here.read_all(after_position=1, limit=2)] == [b"2", b"3"]
    assert [event for batch in handed for event in batch.events()] == [here.read_all()[0], here.read_all()[3]]
