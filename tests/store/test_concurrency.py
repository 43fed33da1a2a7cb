import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from store import ConcurrencyConflict, EventStore, NewEvent, StreamClosed
from store.event_log import EventLog
from store.group_commit import Append, GroupCommitWriter, settle
from tests.store.conftest import both_backends

TICK = [NewEvent("Tick", b"{}")]


def race(*contenders: Callable[[], object]) -> list[object]:
    """Run the contenders on their own threads, released together; their results or errors."""
    start = threading.Barrier(len(contenders))
    outcomes: list[object] = [None] * len(contenders)

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = contenders[index]()
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(contenders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        threading.Event().wait(0.001)


def assert_exactly_one_won(outcomes: list[object], stream: str) -> None:
    winners = [outcome for outcome in outcomes if outcome == 1]
    losers = [outcome for outcome in outcomes if isinstance(outcome, ConcurrencyConflict)]
    assert len(winners) == 1, outcomes
    assert len(losers) == len(outcomes) - 1, outcomes
    assert all((loser.expected, loser.actual) == (0, 1) for loser in losers)


@both_backends
def test_two_writers_with_the_same_expected_version_exactly_one_wins(store: EventLog, backend: str) -> None:
    # Fewer rounds on DynamoDB: this store's appends take turns anyway, and moto copies the whole table
    # for each transaction, so each round costs more as the table grows.
    for round_ in range(200 if backend == "sqlite" else 25):
        stream = f"conversation-{round_}"

        def contender(stream: str = stream) -> int:
            return store.append(stream, TICK, 0)

        assert_exactly_one_won(race(contender, contender), stream)
        assert store.stream_version(stream) == 1


@both_backends
def test_two_stores_on_one_log_with_the_same_expected_version_exactly_one_wins(
    open_store: Callable[[], EventLog],
) -> None:
    with open_store() as first, open_store() as second:
        for round_ in range(50):
            stream = f"conversation-{round_}"
            outcomes = race(
                lambda: first.append(stream, TICK, 0),
                lambda: second.append(stream, TICK, 0),
            )
            assert_exactly_one_won(outcomes, stream)
        # Each store has remembered versions the other one moved on; the
        # next append through either must still see the real version.
        first.append("shared", TICK, 0)
        second.append("shared", TICK, 1)
        with pytest.raises(ConcurrencyConflict):
            first.append("shared", TICK, 1)
        assert first.append("shared", TICK, 2) == 3


def test_many_writers_on_many_streams_all_land(store: EventStore) -> None:
    writers, appends_each = 64, 25

    def writer(stream: str) -> Callable[[], int]:
        def write() -> int:
            version = 0
            for n in range(appends_each):
                events = [NewEvent("Tick", f"{stream}:{version + i + 1}".encode()) for i in range(n % 3 + 1)]
                version = store.append(stream, events, version)
            return version

        return write

    streams = [f"conversation-{n}" for n in range(writers)]
    outcomes = race(*(writer(stream) for stream in streams))

    per_stream = sum(n % 3 + 1 for n in range(appends_each))
    assert outcomes == [per_stream] * writers
    everything = store.read_all(limit=writers * per_stream + 1)
    assert len(everything) == writers * per_stream
    assert all(a.position < b.position for a, b in zip(everything, everything[1:]))
    for stream in streams:
        read = store.read_stream(stream)
        assert [e.seq for e in read] == list(range(1, per_stream + 1))
        assert [e.data for e in read] == [f"{stream}:{e.seq}".encode() for e in read]
    assert store.stats().batches < writers * appends_each


def test_a_conflicting_append_fails_alone_in_its_batch(store: EventStore, store_path: Path) -> None:
    store.append("contested", TICK, 0)
    store.append("ended", TICK, 0, closes_stream=True)
    batches_before = store.stats().batches

    # Another connection holds the write lock, so the writer waits in BEGIN
    # with the first append while all the others queue up behind it: they
    # are then committed together.
    blocker = sqlite3.connect(store_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    contenders = [lambda n=n: store.append(f"fresh-{n}", TICK, 0) for n in range(5)]
    contenders += [lambda: store.append("contested", TICK, 0) for _ in range(3)]
    contenders += [lambda: store.append("contested", TICK, 1)]
    contenders += [lambda: store.append("ended", TICK, 1)]
    results: list[object] = []
    racing = threading.Thread(target=lambda: results.extend(race(*contenders)))
    racing.start()
    wait_until(lambda: store.stats().queued == len(contenders) - 1)
    blocker.execute("ROLLBACK")
    blocker.close()
    racing.join()

    assert results[:5] == [1] * 5
    assert all(isinstance(r, ConcurrencyConflict) and r.expected == 0 for r in results[5:8])
    assert results[8] == 2
    assert isinstance(results[9], StreamClosed)
    assert store.stats().batches == batches_before + 1
    assert store.stream_version("contested") == 2
    assert store.stream_version("ended") == 1


def test_an_append_of_the_main_thread_that_never_waits_holds_up_nobody_after_it() -> None:
    # A signal handler may raise in the main thread while it waits for its
    # append: then it never wakes anybody. The callers after it in the batch
    # must be woken all the same.
    outcomes: dict[str, object] = {}
    appends: dict[str, Append] = {}
    made = threading.Barrier(3)

    def caller(name: str) -> None:
        appends[name] = Append(name, tuple(TICK), 0, closes_stream=False)
        made.wait()
        outcomes[name] = appends[name].wait()

    callers = [
        threading.Thread(target=caller, args=(name,), daemon=True) for name in ("before", "after")
    ]
    for thread in callers:
        thread.start()
    made.wait()
    interrupted = Append("main", tuple(TICK), 0, closes_stream=False)

    settle([appends["before"], interrupted, appends["after"]], [1, 2, 3])
    for thread in callers:
        thread.join(timeout=10)

    assert outcomes == {"before": 1, "after": 3}


def test_the_writer_keeps_the_versions_it_knows_through_other_tables_commits_not_through_others_appends(
    store_path: Path,
) -> None:
    """The deliverer commits a checkpoint beside the log after every POST: that must not make the writer
    read its streams' versions again (it did once per batch), but another store's append must."""
    EventStore.open(store_path).close()
    conn = sqlite3.connect(store_path, isolation_level=None, check_same_thread=False)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    writer = GroupCommitWriter(conn, on_commit=lambda batch: None)

    def append(stream: str, expected_version: int) -> int:
        submitted = Append(stream, tuple(TICK), expected_version, False)
        writer.submit(submitted)
        return submitted.wait()

    def version_reads() -> int:
        return sum("max(seq)" in statement for statement in statements)

    try:
        assert append("conversation-1", 0) == 1 and version_reads() == 1
        beside = sqlite3.connect(store_path, isolation_level=None)  # as the deliverer's checkpoints are
        try:
            beside.execute("CREATE TABLE beside (seq INTEGER)")
            for seq in (2, 3):
                beside.execute("INSERT INTO beside VALUES (?)", (seq - 1,))
                assert append("conversation-1", seq - 1) == seq
        finally:
            beside.close()
        assert version_reads() == 1, "a checkpoint's commit leaves what the writer knows"

        with EventStore.open(store_path) as other:
            other.append("conversation-1", TICK, 3)
        with pytest.raises(ConcurrencyConflict):
            append("conversation-1", 3)
        assert version_reads() == 2, "another store's append makes it read the version again"
        assert append("conversation-1", 4) == 5
    finally:
        writer.stop()
        conn.close()


def committing_threads(store: EventStore) -> list[str]:
    """The names of the threads each of the store's commits ran on, from now on (a follower runs on it)."""
    names: list[str] = []
    store.follow(lambda batch: names.append(threading.current_thread().name))
    return names


def test_an_append_nobody_competes_with_is_committed_on_its_callers_thread(store: EventStore) -> None:
    """No hand-off to the writer's thread and back (two wake-ups, most of an append's p99 on a relay)."""
    names = committing_threads(store)
    versions: list[int] = []
    caller = threading.Thread(target=lambda: versions.append(store.append("conversation-1", TICK, 0)), name="caller")
    caller.start()
    caller.join(timeout=10)

    assert versions == [1] and names == ["caller"]
    assert store.read_stream("conversation-1")[0].seq == 1


def test_the_main_threads_appends_are_committed_by_the_writers_thread(store: EventStore) -> None:
    names = committing_threads(store)

    assert store.append("conversation-1", TICK, 0) == 1
    assert names == ["event-store-writer"]


def test_appends_that_come_while_a_caller_commits_are_committed_after_it_by_the_writers_thread(
    store: EventStore,
) -> None:
    names: list[str] = []
    release = threading.Event()

    def follower(batch: object) -> None:
        names.append(threading.current_thread().name)
        if len(names) == 1:
            assert release.wait(10)  # the first commit holds its caller here, after its COMMIT

    store.follow(follower)
    versions: dict[str, int] = {}

    def append(name: str) -> None:
        versions[name] = store.append(name, TICK, 0)

    first = threading.Thread(target=append, args=("conversation-1",), name="first")
    first.start()
    wait_until(lambda: len(names) == 1)
    later = [threading.Thread(target=append, args=(f"conversation-{n}",), name=f"later-{n}") for n in (2, 3)]
    for thread in later:
        thread.start()
    wait_until(lambda: store.stats().queued == 2)
    assert names == ["first"], "nobody commits while a caller does"
    release.set()
    for thread in [first, *later]:
        thread.join(timeout=10)

    assert versions == {"conversation-1": 1, "conversation-2": 1, "conversation-3": 1}
    assert names == ["first", "event-store-writer"], "the two that waited share the writer's one commit"
