"""The event log in a DynamoDB table, behind the same calls as the SQLite `EventStore`.

How the items, the conditions and the global order work, and why: docs/dynamodb-store.md.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from store.append_arguments import check_expected_version, check_stream, checked_events
from store.dynamo_table import (
    LOG,
    LOG_HEAD,
    OPEN_STREAMS,
    STREAM_HEADS,
    check_table,
    dynamodb_client,
    event_key,
    head_key,
    log_key,
    open_key,
    position_key,
    seq_key,
    stream_partition,
)
from store.errors import ConcurrencyConflict, EventStoreClosed, StoreWriteFailed, StreamClosed
from store.event_store import EventStore
from store.observer import StoreObserver
from store.records import NewEvent, StoredEvent, StoreStats

# A transaction holds at most 100 actions: the log's head, the stream's head, the open-stream marker
# and two items per event (in its stream and in the global order).
MAX_EVENTS_PER_APPEND = 48
# An item holds at most 400 KB and a transaction 4 MB; each event is written twice.
MAX_EVENT_BYTES = 350_000
MAX_APPEND_BYTES = 1_900_000
# How often a waiting tail asks the table for events that another node committed; events committed
# through this store wake it at once. Each look is one strongly consistent read (docs/dynamodb-store.md).
POLL_SECONDS = 0.1
# Another node moved the log's head between our read and our transaction, or DynamoDB refused one of
# our items because another transaction held it: try again, for at most this long.
CONTENDED_SECONDS = 10.0


class DynamoEventStore:
    """Streams of events in a DynamoDB table, appended with conditional transactions.

    Example::

        with DynamoEventStore.open("connect-worker-log", "eu-west-2", local_path=Path("data/events.db")) as store:
            version = store.append("conversation-42", [NewEvent("Transferred", b"{}")], 0)

    Safe to share between threads; several processes (nodes) may share the table. Appends of this
    process take turns (one transaction at a time), each moving the log's head by its events.
    """

    def __init__(self, client: Any, table: str, local_path: Path) -> None:
        """Use `DynamoEventStore.open`, which checks the table and prepares the local file."""
        self._client = client
        self._table = table
        self._path = local_path
        self._closed = False
        self._append_lock = threading.Lock()
        self._head: int | None = None  # the log's head as this store last saw it; None: read it
        self._committed = threading.Condition()
        self._last_committed = 0
        self._observer: StoreObserver | None = None
        self._counters = threading.Lock()
        self._appends = self._events = self._transactions = self._queued = 0

    @classmethod
    def open(
        cls, table: str, region: str, *, local_path: Path, endpoint_url: str | None = None
    ) -> DynamoEventStore:
        """Open the log in `table` (which `create_table` made); `local_path` is the SQLite file for what
        is not the log (API clients, delivery checkpoints, the local vault), created as the SQLite store
        creates it. Raises DynamoTableError naming the problem if the table is missing, keyed otherwise or
        out of reach."""
        client = dynamodb_client(region, endpoint_url)
        check_table(client, table)
        EventStore.open(local_path).close()
        return cls(client, table, local_path)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def table(self) -> str:
        return self._table

    def close(self) -> None:
        """Refuse every call from now on; an append under way finishes first."""
        with self._append_lock:
            self._closed = True
        with self._committed:
            self._committed.notify_all()

    def __enter__(self) -> DynamoEventStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def append(
        self, stream: str, events: Sequence[NewEvent], expected_version: int, *, closes_stream: bool = False
    ) -> int:
        """Append `events` to `stream` in one transaction; the stream's new version once committed.

        Raises `ConcurrencyConflict` or `StreamClosed` as the SQLite store does, and ValueError for an
        append larger than one transaction can hold (`MAX_EVENTS_PER_APPEND`, `MAX_APPEND_BYTES`).
        """
        check_stream(stream)
        check_expected_version(expected_version)
        checked = _within_limits(checked_events(events))
        began = time.monotonic()
        with self._counters:
            self._queued += 1
        try:
            with self._append_lock:
                if self._closed:
                    raise EventStoreClosed(self._path)
                position = self._commit(stream, checked, expected_version, closes_stream)
        finally:
            with self._counters:
                self._queued -= 1
        seconds = time.monotonic() - began
        with self._counters:
            self._appends += 1
            self._events += len(checked)
        with self._committed:
            self._last_committed = position
            self._committed.notify_all()
        observer = self._observer
        if observer is not None:
            observer.appended(seconds)
            observer.committed(1, len(checked), seconds)
        return expected_version + len(checked)

    def _commit(self, stream: str, events: tuple[NewEvent, ...], expected: int, closes: bool) -> int:
        """One transaction moving the log's head from where we believe it is; again with the head
        DynamoDB reports if another node moved it. Returns the last position written."""
        deadline = time.monotonic() + CONTENDED_SECONDS
        while True:
            head = self._head if self._head is not None else self._read_head()
            now = time.time()
            with self._counters:
                self._transactions += 1
            try:
                self._client.transact_write_items(
                    TransactItems=_transaction(self._table, stream, events, expected, closes, head, now),
                    ClientRequestToken=uuid.uuid4().hex,
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    self._head = None  # the transaction may or may not have been applied
                    raise StoreWriteFailed(stream, error) from error
                reasons = error.response.get("CancellationReasons", [])
                self._head = _head_from(reasons, head)
                _raise_if_refused(stream, expected, reasons)
                if not _contended(reasons) or time.monotonic() > deadline:
                    raise StoreWriteFailed(stream, error) from error
                if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                    time.sleep(random.uniform(0, 0.02))  # another transaction held an item: let it finish
                continue
            except BotoCoreError as error:
                self._head = None  # the transaction may or may not have been applied
                raise StoreWriteFailed(stream, error) from error
            self._head = head + len(events)
            return self._head

    def _read_head(self) -> int:
        item = self._client.get_item(TableName=self._table, Key=LOG_HEAD, ConsistentRead=True).get("Item")
        return int(item["position"]["N"]) if item else 0

    def read_stream(self, stream: str, *, after_seq: int = 0, until_seq: int | None = None) -> list[StoredEvent]:
        """The events of `stream` with `after_seq < seq <= until_seq`, in order."""
        values: dict[str, Any] = {":pk": stream_partition(stream), ":after": {"S": seq_key(after_seq)}}
        condition = "pk = :pk AND sk > :after"
        if until_seq is not None:
            if until_seq <= after_seq:
                return []
            values[":after"] = {"S": seq_key(after_seq + 1)}
            values[":until"] = {"S": seq_key(until_seq)}
            condition = "pk = :pk AND sk BETWEEN :after AND :until"
        return [
            StoredEvent(
                stream,
                int(item["sk"]["S"]),
                int(item["position"]["N"]),
                item["type"]["S"],
                item["data"]["B"],
                float(item["recorded_at"]["N"]),
            )
            for item in self._query(condition, values)
        ]

    def stream_version(self, stream: str) -> int:
        """The number of events in `stream` (0 if it does not exist)."""
        item = self._get(head_key(stream))
        return int(item["version"]["N"]) if item else 0

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Up to `limit` events of every stream after `after_position`, in commit order.

        Positions are handed out without gaps in commit order (docs/dynamodb-store.md), so the page
        stops before the first position not yet readable: a tail that remembers the last position it
        read never skips an event.
        """
        page: list[StoredEvent] = []
        values = {":pk": {"S": LOG}, ":after": {"S": position_key(after_position)}}
        for item in self._query("pk = :pk AND sk > :after", values, limit=limit):
            position = int(item["sk"]["S"])
            if position != after_position + len(page) + 1:
                break
            page.append(
                StoredEvent(
                    item["stream"]["S"],
                    int(item["seq"]["N"]),
                    position,
                    item["type"]["S"],
                    item["data"]["B"],
                    float(item["recorded_at"]["N"]),
                )
            )
        return page

    def last_position(self) -> int:
        """The last position handed out (0 if the log is empty)."""
        self._check_open()
        return self._read_head()

    def wait_for_position(self, after: int, timeout: float) -> bool:
        """Wait until the event after position `after` can be read; False if `timeout` passes first.

        Appends through this store wake the waiter at once; other nodes' are seen within `POLL_SECONDS`.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self._get(log_key(after + 1)) is not None:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._committed:
                if self._last_committed <= after and not self._closed:
                    self._committed.wait(min(remaining, POLL_SECONDS))

    def open_streams(self, prefix: str = "") -> list[str]:
        """The streams whose name starts with `prefix` and that are not closed, by name."""
        return [item["sk"]["S"] for item in self._prefixed(OPEN_STREAMS, prefix)]

    def stream_versions(self, prefix: str) -> dict[str, int]:
        """The version of every stream whose name starts with `prefix` (closed ones too), by name."""
        if not prefix:
            raise ValueError("stream_versions needs a prefix")
        return {item["sk"]["S"]: int(item["version"]["N"]) for item in self._prefixed(STREAM_HEADS, prefix)}

    def stats(self) -> StoreStats:
        """Appends and events committed, transactions sent (`batches`: one per append, more when another
        node got there first), appends waiting now."""
        with self._counters:
            return StoreStats(self._appends, self._events, self._transactions, self._queued)

    def writer_running(self) -> bool:
        """Whether appends can be made: the store is open."""
        return not self._closed

    def watch(self, observer: StoreObserver | None) -> None:
        """Tell `observer` how long each append took (each is its own transaction) from now on (None: stop)."""
        self._observer = observer

    def _prefixed(self, partition: str, prefix: str) -> Iterator[dict[str, Any]]:
        values: dict[str, Any] = {":pk": {"S": partition}}
        condition = "pk = :pk"
        if prefix:
            values[":prefix"] = {"S": prefix}
            condition += " AND begins_with(sk, :prefix)"
        return iter(self._query(condition, values))

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        self._check_open()
        return self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")

    def _query(self, condition: str, values: dict[str, Any], *, limit: int | None = None) -> list[dict[str, Any]]:
        """Every item the key condition matches (up to `limit`), strongly consistent, page by page."""
        self._check_open()
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            if limit is not None:
                request["Limit"] = limit - len(items)
            answer = self._client.query(**request)
            items.extend(answer["Items"])
            if "LastEvaluatedKey" not in answer or (limit is not None and len(items) >= limit):
                return items
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _check_open(self) -> None:
        if self._closed:
            raise EventStoreClosed(self._path)


def _within_limits(events: tuple[NewEvent, ...]) -> tuple[NewEvent, ...]:
    if len(events) > MAX_EVENTS_PER_APPEND:
        raise ValueError(
            f"events holds {len(events)} events; one append to DynamoDB holds at most {MAX_EVENTS_PER_APPEND}"
        )
    total = 0
    for index, event in enumerate(events):
        size = len(event.data) + len(event.type.encode())
        if size > MAX_EVENT_BYTES:
            raise ValueError(f"events[{index}] holds {size} bytes; an event in DynamoDB holds at most {MAX_EVENT_BYTES}")
        total += size
    if total > MAX_APPEND_BYTES:
        raise ValueError(f"events hold {total} bytes; one append to DynamoDB holds at most {MAX_APPEND_BYTES}")
    return events


def _transaction(
    table: str, stream: str, events: tuple[NewEvent, ...], expected: int, closes: bool, head: int, now: float
) -> list[dict[str, Any]]:
    """The transaction of one append: the log's head moves from `head` (and only from there), the
    stream's head from `expected` (and only if open), and every event is put in its stream and in the
    global order, where no item may be yet. Its first two actions are the two heads, in that order."""
    version = expected + len(events)
    recorded_at = {"N": repr(now)}
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table,
                "Key": LOG_HEAD,
                "UpdateExpression": "SET #position = :new",
                "ConditionExpression": "attribute_not_exists(pk)" if head == 0 else "#position = :old",
                "ExpressionAttributeNames": {"#position": "position"},
                "ExpressionAttributeValues": {":new": {"N": str(head + len(events))}}
                | ({} if head == 0 else {":old": {"N": str(head)}}),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
    ]
    closed = {"closed_at": recorded_at} if closes else {}
    if expected == 0:
        actions.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": head_key(stream) | {"version": {"N": str(version)}} | closed,
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        )
        if not closes:
            actions.append({"Put": {"TableName": table, "Item": open_key(stream)}})
    else:
        actions.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": head_key(stream),
                    "UpdateExpression": "SET version = :new" + (", closed_at = :now" if closes else ""),
                    "ConditionExpression": "version = :expected AND attribute_not_exists(closed_at)",
                    "ExpressionAttributeValues": {":new": {"N": str(version)}, ":expected": {"N": str(expected)}}
                    | ({":now": recorded_at} if closes else {}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        )
        if closes:
            actions.append({"Delete": {"TableName": table, "Key": open_key(stream)}})
    for offset, event in enumerate(events, start=1):
        seq, position = expected + offset, head + offset
        body = {"type": {"S": event.type}, "data": {"B": event.data}, "recorded_at": recorded_at}
        stream_item = event_key(stream, seq) | body | {"position": {"N": str(position)}}
        log_item = log_key(position) | body | {"stream": {"S": stream}, "seq": {"N": str(seq)}}
        for item in (stream_item, log_item):
            actions.append(
                {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            )
    return actions


def _raise_if_refused(stream: str, expected: int, reasons: list[dict[str, Any]]) -> None:
    """The stream's own answer, if its head's condition failed: closed, or at another version."""
    if len(reasons) < 2 or reasons[1].get("Code") != "ConditionalCheckFailed":
        return
    item = reasons[1].get("Item")
    if item is not None and "closed_at" in item:
        raise StreamClosed(stream)
    raise ConcurrencyConflict(stream, expected, int(item["version"]["N"]) if item else 0)


def _contended(reasons: list[dict[str, Any]]) -> bool:
    """Whether the transaction failed only because another one got there first: the log's head moved
    (then the positions we meant to write are taken too), or an item was held by a transaction in flight."""
    codes = [reason.get("Code", "None") for reason in reasons]
    if codes and codes[0] == "ConditionalCheckFailed":
        return all(code in ("None", "ConditionalCheckFailed", "TransactionConflict") for code in codes)
    return "TransactionConflict" in codes and all(code in ("None", "TransactionConflict") for code in codes)


def _head_from(reasons: list[dict[str, Any]], tried: int) -> int | None:
    """The log's head after a cancelled transaction that tried to move it from `tried`: unchanged if its
    condition held, the one DynamoDB reported if it failed, None (read it again) if DynamoDB did not say."""
    code = reasons[0].get("Code") if reasons else None
    if code == "None":
        return tried
    if code == "ConditionalCheckFailed":
        item = reasons[0].get("Item")
        return int(item["position"]["N"]) if item else 0
    return None
