import re
from collections.abc import Callable

import pytest

from store import (
    ConcurrencyConflict,
    EventStoreClosed,
    NewEvent,
    StoreStats,
    StreamClosed,
)
from store.event_log import EventLog
from tests.store.conftest import both_backends


def events(*names: str) -> list[NewEvent]:
    return [NewEvent(name, name.lower().encode()) for name in names]


@both_backends
def test_append_to_a_new_stream_returns_its_version_and_reads_back(store: EventLog) -> None:
    version = store.append("conversation-1", events("Transferred", "ChatStarted"), 0)

    assert version == 2
    read = store.read_stream("conversation-1")
    assert [(e.stream, e.seq, e.type, e.data) for e in read] == [
        ("conversation-1", 1, "Transferred", b"transferred"),
        ("conversation-1", 2, "ChatStarted", b"chatstarted"),
    ]
    assert read[0].position < read[1].position
    assert store.stream_version("conversation-1") == 2


@both_backends
def test_appends_continue_the_stream_sequence(store: EventLog) -> None:
    store.append("conversation-1", events("A"), 0)
    assert store.append("conversation-1", events("B", "C"), 1) == 3
    assert [e.seq for e in store.read_stream("conversation-1")] == [1, 2, 3]


@both_backends
@pytest.mark.parametrize("expected", [0, 1, 5])
def test_a_wrong_expected_version_raises_a_conflict_and_writes_nothing(
    store: EventLog, expected: int
) -> None:
    store.append("conversation-1", events("A", "B"), 0)

    with pytest.raises(ConcurrencyConflict) as raised:
        store.append("conversation-1", events("C"), expected)

    assert (raised.value.stream, raised.value.expected, raised.value.actual) == (
        "conversation-1",
        expected,
        2,
    )
    assert [e.type for e in store.read_stream("conversation-1")] == ["A", "B"]
    assert store.last_position() == 2


def test_a_large_append_lands_whole_and_in_order(store: EventLog) -> None:
    # SQLite only: one append to DynamoDB holds at most 48 events (tests/store/test_dynamo_store.py).
    many = [NewEvent("Tick", str(n).encode()) for n in range(1, 348)]

    assert store.append("s", many, 0) == 347

    read = store.read_stream("s")
    assert [(e.seq, e.data) for e in read] == [(n, str(n).encode()) for n in range(1, 348)]
    assert [e.position for e in read] == list(range(1, 348))


@both_backends
def test_an_unknown_stream_has_version_zero_and_no_events(store: EventLog) -> None:
    assert store.stream_version("nobody") == 0
    assert store.read_stream("nobody") == []


@both_backends
def test_read_stream_between_sequence_numbers(store: EventLog) -> None:
    store.append("s", events("A", "B", "C", "D", "E"), 0)

    assert [e.type for e in store.read_stream("s", after_seq=2)] == ["C", "D", "E"]
    assert [e.type for e in store.read_stream("s", until_seq=2)] == ["A", "B"]
    assert [e.type for e in store.read_stream("s", after_seq=1, until_seq=3)] == ["B", "C"]


@both_backends
def test_read_all_gives_every_stream_in_commit_order_page_by_page(store: EventLog) -> None:
    store.append("a", events("A1"), 0)
    store.append("b", events("B1", "B2"), 0)
    store.append("a", events("A2"), 1)

    everything = store.read_all()
    assert [e.type for e in everything] == ["A1", "B1", "B2", "A2"]
    assert [e.position for e in everything] == sorted({e.position for e in everything})

    first_page = store.read_all(limit=3)
    second_page = store.read_all(after_position=first_page[-1].position, limit=3)
    assert first_page + second_page == everything


@both_backends
def test_a_closed_stream_refuses_appends_and_leaves_the_open_streams(store: EventLog) -> None:
    store.append("conversation-1", events("Transferred"), 0)
    store.append("conversation-2", events("Transferred"), 0)
    assert store.append("conversation-1", events("ReturnedToBot"), 1, closes_stream=True) == 2

    with pytest.raises(StreamClosed) as raised:
        store.append("conversation-1", events("AgentMessage"), 2)

    assert raised.value.stream == "conversation-1"
    assert store.stream_version("conversation-1") == 2
    assert store.open_streams("conversation-") == ["conversation-2"]


@both_backends
def test_a_stream_can_be_closed_by_its_first_append(store: EventLog) -> None:
    store.append("conversation-1", events("Transferred", "ChatEnded"), 0, closes_stream=True)

    assert store.open_streams() == []
    with pytest.raises(StreamClosed):
        store.append("conversation-1", events("AgentMessage"), 2)


@both_backends
def test_open_streams_match_the_prefix_exactly(store: EventLog) -> None:
    for stream in [
        "conversation-b",
        "conversation-a",
        "conversation-é",
        "conversation",
        "conversation.",
        "conversation0",
        "worker-main",
    ]:
        store.append(stream, events("X"), 0)

    assert store.open_streams("conversation-") == [
        "conversation-a",
        "conversation-b",
        "conversation-é",
    ]
    assert store.open_streams("worker-") == ["worker-main"]
    assert len(store.open_streams()) == 7


@both_backends
def test_closing_state_and_events_survive_reopening(open_store: Callable[[], EventLog]) -> None:
    with open_store() as first:
        first.append("conversation-1", events("A"), 0, closes_stream=True)
        first.append("conversation-2", events("A", "B"), 0)

    with open_store() as reopened:
        assert [e.type for e in reopened.read_stream("conversation-2")] == ["A", "B"]
        assert reopened.open_streams("conversation-") == ["conversation-2"]
        assert reopened.append("conversation-2", events("C"), 2) == 3
        with pytest.raises(StreamClosed):
            reopened.append("conversation-1", events("B"), 1)


@both_backends
@pytest.mark.parametrize(
    ("stream", "new_events", "expected", "error", "names"),
    [
        ("", events("A"), 0, ValueError, "stream"),
        ("s", [], 0, ValueError, "events"),
        ("s", events("A"), -1, ValueError, "expected_version"),
        ("s", events("A"), "0", ValueError, "expected_version"),
        ("s", [NewEvent("A", b"x"), NewEvent("B", "text")], 0, TypeError, "events[1].data"),
        ("s", [NewEvent("", b"x")], 0, ValueError, "events[0].type"),
        ("s", [("A", b"x")], 0, TypeError, "events[0]"),
    ],
)
def test_bad_arguments_name_the_field_and_write_nothing(
    store: EventLog,
    stream: str,
    new_events: list[NewEvent],
    expected: int,
    error: type[Exception],
    names: str,
) -> None:
    with pytest.raises(error, match=re.escape(names)):
        store.append(stream, new_events, expected)

    assert store.last_position() == 0


@both_backends
def test_a_closed_store_refuses_appends_and_reads(open_store: Callable[[], EventLog]) -> None:
    store = open_store()
    store.close()

    with pytest.raises(EventStoreClosed):
        store.append("s", events("A"), 0)
    with pytest.raises(EventStoreClosed):
        store.read_stream("s")


@both_backends
def test_stats_count_committed_appends_events_and_batches(store: EventLog) -> None:
    store.append("s", events("A", "B"), 0)
    store.append("s", events("C"), 2)
    with pytest.raises(ConcurrencyConflict):
        store.append("s", events("D"), 0)

    assert store.stats() == StoreStats(appends=2, events=3, batches=3, queued=0)
