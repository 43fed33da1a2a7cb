"""What is the DynamoDB store's own: the global order across nodes, the limits of one transaction, the
table's checks. The behaviour it shares with the SQLite store is tested on both (`both_backends`)."""

from __future__ import annotations

import copy
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from store import ConcurrencyConflict, EventStore, NewEvent, StoredEvent, StoreWriteFailed, StreamClosed
from store.dynamo_event_store import MAX_APPEND_BYTES, MAX_EVENTS_PER_APPEND, DynamoEventStore
from store.dynamo_table import LOG, DynamoTableError, dynamodb_client, position_key
from store.event_log import EventLog
from tests.store.held_transaction import race_behind_a_held_transaction
from tests.support.dynamodb import REGION, open_dynamo_store

TICK = [NewEvent("Tick", b"{}")]


@pytest.fixture
def backend() -> str:
    return "dynamodb"


def test_both_stores_offer_the_event_log_calls(store: DynamoEventStore, store_path: Path) -> None:
    assert isinstance(store, EventLog)
    with EventStore.open(store_path) as sqlite:
        assert isinstance(sqlite, EventLog)


def test_an_append_moves_on_from_where_another_node_left_the_log(open_store: Callable[[], EventLog]) -> None:
    with open_store() as first, open_store() as second:
        first.append("a", TICK, 0)  # `first` now believes the log ends at 1
        second.append("b", TICK + TICK, 0)

        assert first.append("a", TICK, 1) == 2

        assert [(e.position, e.stream, e.seq) for e in first.read_all()] == [(1, "a", 1), (2, "b", 1), (3, "b", 2), (4, "a", 2)]
        assert first.stats().batches == 3  # the second append of `first` was tried again once


def test_a_follower_never_skips_an_event_while_two_nodes_append_at_once(
    open_store: Callable[[], EventLog],
) -> None:
    nodes = [open_store(), open_store()]
    follower = open_store()
    writers, appends_each = 1, 10
    done = threading.Event()
    seen: list[StoredEvent] = []

    def follow() -> None:
        position = 0
        while True:
            page = follower.read_all(after_position=position, limit=7)
            seen.extend(page)
            if page:
                position = page[-1].position
            elif done.is_set() and follower.last_position() == position:
                return
            else:
                follower.wait_for_position(position, timeout=1)

    def write(node: EventLog, stream: str) -> None:
        version = 0
        for n in range(appends_each):
            events = [NewEvent("Tick", f"{stream}:{version + i + 1}".encode()) for i in range(n % 2 + 1)]
            version = node.append(stream, events, version)

    following = threading.Thread(target=follow)
    following.start()
    threads = [
        threading.Thread(target=write, args=(node, f"conversation-{index}-{w}"))
        for index, node in enumerate(nodes)
        for w in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    following.join()

    per_stream = sum(n % 2 + 1 for n in range(appends_each))
    assert [e.position for e in seen] == list(range(1, len(threads) * per_stream + 1))
    for stream in {e.stream for e in seen}:
        assert [e.data for e in seen if e.stream == stream] == [f"{stream}:{seq}".encode() for seq in range(1, per_stream + 1)]


def test_a_refused_append_leaves_no_gap_in_the_positions(store: DynamoEventStore) -> None:
    store.append("s", TICK, 0)
    with pytest.raises(ConcurrencyConflict):
        store.append("s", TICK, 0)

    store.append("t", TICK, 0)

    assert [e.position for e in store.read_all()] == [1, 2]


def test_a_transaction_that_fails_writes_nothing_and_takes_no_position(
    store: DynamoEventStore, dynamodb_endpoint: str
) -> None:
    store.append("s", TICK, 0)
    # A stray item where the next event of the global order would go: DynamoDB refuses the whole
    # transaction (each event's item must be new), so the stream and the log's head stay as they were.
    client = dynamodb_client(REGION, dynamodb_endpoint)
    stray = {"pk": {"S": LOG}, "sk": {"S": position_key(2)}}
    client.put_item(TableName=store.table, Item=stray)

    with pytest.raises(StoreWriteFailed):
        store.append("s", TICK + TICK, 1)

    assert store.stream_version("s") == 1
    assert [e.seq for e in store.read_stream("s")] == [1]
    assert store.last_position() == 1
    client.delete_item(TableName=store.table, Key=stray)
    assert store.append("s", TICK, 1) == 2
    assert [(e.position, e.seq) for e in store.read_all()] == [(1, 1), (2, 2)]


def test_an_append_larger_than_one_transaction_is_refused_naming_the_limit(store: DynamoEventStore) -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_EVENTS_PER_APPEND}"):
        store.append("s", TICK * (MAX_EVENTS_PER_APPEND + 1), 0)
    with pytest.raises(ValueError, match=f"at most {MAX_APPEND_BYTES}"):
        store.append("s", [NewEvent("Big", b"x" * 300_000)] * 7, 0)
    assert store.last_position() == 0

    many = [NewEvent("Tick", str(n).encode()) for n in range(MAX_EVENTS_PER_APPEND)]
    assert store.append("s", many, 0) == MAX_EVENTS_PER_APPEND
    assert [e.data for e in store.read_stream("s")] == [e.data for e in many]


@pytest.mark.usefixtures("dynamodb_credentials")
def test_opening_a_missing_table_names_it_and_how_to_create_it(dynamodb_endpoint: str, store_path: Path) -> None:
    with pytest.raises(DynamoTableError, match="no DynamoDB table 'nowhere'.*store create-table"):
        open_dynamo_store(dynamodb_endpoint, "nowhere", store_path)


def test_a_page_stops_before_a_position_not_yet_readable(store: DynamoEventStore, dynamodb_endpoint: str) -> None:
    store.append("s", TICK, 0)
    # What a reader could meet if position 2's transaction were committed but not yet visible to it
    # while position 3 already were: it must not go past 2, or it would never read 2.
    client = dynamodb_client(REGION, dynamodb_endpoint)
    later = {"pk": {"S": LOG}, "sk": {"S": position_key(3)}, "stream": {"S": "t"}, "seq": {"N": "1"},
             "type": {"S": "Tick"}, "data": {"B": b"{}"}, "recorded_at": {"N": "0"}}
    client.put_item(TableName=store.table, Item=later)

    assert [e.position for e in store.read_all()] == [1]
    assert store.read_all(after_position=1) == []
    assert store.wait_for_position(1, timeout=0) is False


def test_appends_waiting_together_share_a_transaction_and_a_refused_one_fails_alone(
    store: DynamoEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.append("contested", TICK, 0)
    store.append("ended", TICK, 0, closes_stream=True)
    batches_before = store.stats().batches
    contenders: list[Callable[[], object]] = [lambda n=n: store.append(f"fresh-{n}", TICK, 0) for n in range(5)]
    contenders += [lambda: store.append("contested", TICK, 0), lambda: store.append("ended", TICK, 1)]
    results, _ = race_behind_a_held_transaction(store, monkeypatch, contenders)

    assert results[:5] == [1] * 5
    assert isinstance(results[5], ConcurrencyConflict) and (results[5].expected, results[5].actual) == (0, 1)
    assert isinstance(results[6], StreamClosed)
    # The held one; then one refused on the two streams' heads, and one with the other five.
    assert store.stats().batches == batches_before + 3
    assert [e.position for e in store.read_all()] == list(range(1, 9))


def test_an_unexpected_error_in_a_transaction_settles_its_appends_as_failed(
    store: DynamoEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.append("s", TICK, 0)

    def broken(**request: object) -> None:
        raise RuntimeError("the network library broke")

    # Every caller of the batch waits for its append to be settled; none may be left waiting.
    with monkeypatch.context() as patched:
        patched.setattr(store._client, "transact_write_items", broken)
        with pytest.raises(StoreWriteFailed, match="the network library broke"):
            store.append("s", TICK, 1)

    assert store.append("s", TICK, 1) == 2
    assert [e.position for e in store.read_all()] == [1, 2]


def test_moto_backs_each_table_up_once_a_transaction(store: DynamoEventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/support/dynamodb.py: moto copies the table for a rollback once a transaction, not once an
    action (a 2-event append has seven); the rollback itself is the test above's."""
    copied: list[object] = []
    deepcopy = copy.deepcopy
    monkeypatch.setattr(copy, "deepcopy", lambda thing, memo=None: copied.append(thing) or deepcopy(thing, memo))
    store.append("s", TICK + TICK, 0)
    assert [type(thing).__name__ for thing in copied].count("Table") == 1


def test_moto_answers_others_while_a_client_has_not_sent_its_body(store: DynamoEventStore, dynamodb_endpoint: str) -> None:
    """tests/support/dynamodb.py: a client stopped between its request's headers and its body (a SIGSTOPped
    node) holds no other request up; moto used to read the body under its one-at-a-time lock."""
    host, port = dynamodb_endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as stalled:
        stalled.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
                        b"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 100\r\n\r\n")
        impatient = boto3.client("dynamodb", region_name=REGION, endpoint_url=dynamodb_endpoint,
                                 config=Config(read_timeout=5, retries={"max_attempts": 1}))
        assert store.table in impatient.list_tables()["TableNames"]
