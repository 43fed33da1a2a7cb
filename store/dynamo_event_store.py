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
from store.commit_signal import CommitSignal
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
from store.errors import ConcurrencyConflict, EventStoreClosed, LeaseLost, StoreWriteFailed, StreamClosed
from store.event_store import EventStore
from store.leases import Lease, LeaseTable, fence_check
from store.observer import StoreObserver
from store.records import NewEvent, StoredEvent, StoreStats

# A transaction holds at most 100 actions: the log's head, the stream's head, the open-stream marker,
# the fence's check and two items per event (in its stream and in the global order).
MAX_ACTIONS = 100
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

    Safe to share between threads; several processes (nodes) may share the table. The appends of this
    process go in batches, one transaction at a time sent by a writer thread, each moving the log's
    head by all its events.
    """

    def __init__(self, client: Any, table: str, local_path: Path) -> None:
        """Use `DynamoEventStore.open`, which checks the table and prepares the local file."""
        self._client = client
        self._table = table
        self._path = local_path
        self._closed = False
        self._waiting: list[_Pending] = []  # appends not yet in a transaction, in arrival order
        self._waiting_lock = threading.Lock()
        self._arrived = threading.Condition(self._waiting_lock)
        self._head: int | None = None  # the log's head as this store last saw it; None: read it
        self._commits = CommitSignal()
        self._observer: StoreObserver | None = None
        self._counters = threading.Lock()
        self._appends = self._events = self._transactions = 0
        self._writer = threading.Thread(target=self._write, name="dynamodb-writer", daemon=True)
        self._writer.start()

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

    @property
    def client(self) -> Any:
        """The DynamoDB client the store calls with, for the cluster's own items in the same table."""
        return self._client

    def close(self) -> None:
        """Refuse every call from now on; the appends already handed in are committed first."""
        with self._arrived:
            self._closed = True
            self._arrived.notify()
        self._writer.join()
        self._commits.close()

    def __enter__(self) -> DynamoEventStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def leases(self) -> LeaseTable:
        """The leases in this log's table, through the store's own DynamoDB client."""
        return LeaseTable(self._client, self._table)  # the real clock: a cluster's node compares expiry on it

    def append(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected_version: int,
        *,
        closes_stream: bool = False,
        fence: Lease | None = None,
    ) -> int:
        """Append `events` to `stream`; the stream's new version once committed.

        Raises `ConcurrencyConflict` or `StreamClosed` as the SQLite store does, and ValueError for an
        append larger than one transaction can hold (`MAX_EVENTS_PER_APPEND`, `MAX_APPEND_BYTES`).

        With `fence`, the transaction also checks that the lease's item still has `fence`'s owner and
        token; if not, it raises `LeaseLost` and nothing is written (docs/cluster.md).

        Group commit: appends waiting while a transaction is under way go together in the next one
        (of different streams, up to DynamoDB's 100 actions), sent by the store's writer thread; each
        is checked on its own, so a conflict fails alone.
        """
        check_stream(stream)
        check_expected_version(expected_version)
        pending = _Pending(stream, _within_limits(checked_events(events)), expected_version, closes_stream, fence)
        began = time.monotonic()
        with self._arrived:
            if self._closed:
                raise EventStoreClosed(self._path)
            self._waiting.append(pending)
            self._arrived.notify()
        pending.settled.wait()
        if isinstance(pending.outcome, BaseException):
            raise pending.outcome
        observer = self._observer
        if observer is not None:
            observer.appended(time.monotonic() - began)
        return pending.outcome

    def _write(self) -> None:
        """The writer thread: one transaction at a time, with every append waiting that fits; until the
        store is closed and nothing waits."""
        while True:
            with self._arrived:
                while not self._waiting and not self._closed:
                    self._arrived.wait()
                if not self._waiting:
                    return
            self._commit_batch(self._take_batch())

    def _take_batch(self) -> list[_Pending]:
        """The waiting appends, oldest first, that fit in one transaction: one per stream and per fence (a
        later append to the same stream, or fenced by the same lease, waits for the next: DynamoDB refuses
        two actions on one item), at most 100 actions and `MAX_APPEND_BYTES`."""
        batch: list[_Pending] = []
        items: set[str] = set()
        actions, size = 1, 0
        with self._waiting_lock:
            for pending in self._waiting:
                if not items.isdisjoint(pending.items):
                    continue
                if batch and (actions + pending.actions > MAX_ACTIONS or size + pending.size > MAX_APPEND_BYTES):
                    break
                batch.append(pending)
                items.update(pending.items)
                actions += pending.actions
                size += pending.size
            taken = {id(pending) for pending in batch}
            self._waiting = [pending for pending in self._waiting if id(pending) not in taken]
        return batch

    def _commit_batch(self, batch: list[_Pending]) -> None:
        """Commit `batch` and settle every append in it, whatever happens: its callers wait for nothing else."""
        try:
            self._send(batch)
        except BaseException as error:
            self._head = None
            _fail([pending for pending in batch if not pending.settled.is_set()], error)
            if not isinstance(error, Exception):
                raise

    def _send(self, batch: list[_Pending]) -> None:
        """One transaction for `batch`, moving the log's head from where we believe it is; again without
        the appends DynamoDB refused, or with the head it reports if another node moved it."""
        deadline = time.monotonic() + CONTENDED_SECONDS
        began = time.monotonic()
        while batch:
            head = self._head if self._head is not None else self._read_head()
            actions, starts = _batch_transaction(self._table, batch, head, time.time())
            with self._counters:
                self._transactions += 1
            try:
                self._client.transact_write_items(TransactItems=actions, ClientRequestToken=uuid.uuid4().hex)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    self._head = None  # the transaction may or may not have been applied
                    _fail(batch, error)
                    return
                reasons = error.response.get("CancellationReasons", [])
                self._head = _head_from(reasons, head)
                refused = [(p, _refusal(p, reasons, start)) for p, start in zip(batch, starts)]
                refused = [(p, why) for p, why in refused if why is not None]
                for pending, why in refused:
                    pending.settle(why)
                batch = [pending for pending in batch if not pending.settled.is_set()]
                if not refused and (not _contended(reasons) or time.monotonic() > deadline):
                    _fail(batch, error)
                    return
                if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                    time.sleep(random.uniform(0, 0.02))  # another transaction held an item: let it finish
                continue
            except BotoCoreError as error:
                self._head = None  # the transaction may or may not have been applied
                _fail(batch, error)
                return
            events = sum(len(pending.events) for pending in batch)
            self._head = head + events
            with self._counters:
                self._appends += len(batch)
                self._events += events
            self._commits.committed(self._head)
            for pending in batch:
                pending.settle(pending.expected + len(pending.events))
            observer = self._observer
            if observer is not None:
                observer.committed(len(batch), events, time.monotonic() - began)
            return

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
        return self._commits.wait_past(
            after, timeout, readable=lambda: self._get(log_key(after + 1)) is not None, poll_seconds=POLL_SECONDS
        )

    def open_streams(self, prefix: str = "") -> list[str]:
        """The streams whose name starts with `prefix` and that are not closed, by name."""
        return [item["sk"]["S"] for item in self._prefixed(OPEN_STREAMS, prefix)]

    def stream_versions(self, prefix: str) -> dict[str, int]:
        """The version of every stream whose name starts with `prefix` (closed ones too), by name."""
        if not prefix:
            raise ValueError("stream_versions needs a prefix")
        return {item["sk"]["S"]: int(item["version"]["N"]) for item in self._prefixed(STREAM_HEADS, prefix)}

    def stats(self) -> StoreStats:
        """Appends and events committed, transactions sent (`batches`: one per batch of appends, more when
        another node got there first or an append was refused), appends waiting now."""
        with self._counters, self._waiting_lock:
            return StoreStats(self._appends, self._events, self._transactions, len(self._waiting))

    def writer_running(self) -> bool:
        """Whether appends can be committed: the store is open and its writer thread is alive."""
        return not self._closed and self._writer.is_alive()

    def watch(self, observer: StoreObserver | None) -> None:
        """Tell `observer` how long each append took and each transaction's size from now on (None: stop)."""
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


class _Pending:
    """One caller's append, waiting for a transaction; `outcome` is its new version or its error once settled."""

    __slots__ = ("stream", "events", "expected", "closes", "fence", "items", "actions", "size", "outcome", "settled")

    def __init__(
        self, stream: str, events: tuple[NewEvent, ...], expected: int, closes: bool, fence: Lease | None
    ) -> None:
        self.stream = stream
        self.events = events
        self.expected = expected
        self.closes = closes
        self.fence = fence
        # The items only this append may touch in a transaction: its stream's, and its lease's.
        self.items = ("stream " + stream,) + (() if fence is None else ("lease " + fence.name,))
        # The stream's head, the open marker when the stream is made open or closed, the fence's check,
        # two per event.
        self.actions = 1 + int((expected == 0) != closes) + int(fence is not None) + 2 * len(events)
        self.size = sum(len(event.data) + len(event.type.encode()) for event in events)
        self.outcome: int | BaseException | None = None
        self.settled = threading.Event()

    def settle(self, outcome: int | BaseException) -> None:
        self.outcome = outcome
        self.settled.set()


def _batch_transaction(
    table: str, batch: list[_Pending], head: int, now: float
) -> tuple[list[dict[str, Any]], list[int]]:
    """The transaction of a batch: the log's head moves from `head` (and only from there) by all their
    events; each append's actions follow, its events at the next positions. Also where each append's
    actions start (its stream's head first)."""
    events = sum(len(pending.events) for pending in batch)
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table,
                "Key": LOG_HEAD,
                "UpdateExpression": "SET #position = :new",
                "ConditionExpression": "attribute_not_exists(pk)" if head == 0 else "#position = :old",
                "ExpressionAttributeNames": {"#position": "position"},
                "ExpressionAttributeValues": {":new": {"N": str(head + events)}}
                | ({} if head == 0 else {":old": {"N": str(head)}}),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
    ]
    starts = []
    position = head
    for pending in batch:
        starts.append(len(actions))
        actions += _append_actions(table, pending, position, now)
        position += len(pending.events)
    return actions, starts


def _append_actions(table: str, pending: _Pending, head: int, now: float) -> list[dict[str, Any]]:
    """One append's part: the stream's head moves from `expected` (and only if open), and every event is
    put in its stream and in the global order after `head`, where no item may be yet; last, the fence's
    check if it has one."""
    stream, expected, closes = pending.stream, pending.expected, pending.closes
    version = expected + len(pending.events)
    recorded_at = {"N": repr(now)}
    closed = {"closed_at": recorded_at} if closes else {}
    actions: list[dict[str, Any]] = []
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
    for offset, event in enumerate(pending.events, start=1):
        seq, position = expected + offset, head + offset
        body = {"type": {"S": event.type}, "data": {"B": event.data}, "recorded_at": recorded_at}
        stream_item = event_key(stream, seq) | body | {"position": {"N": str(position)}}
        log_item = log_key(position) | body | {"stream": {"S": stream}, "seq": {"N": str(seq)}}
        for item in (stream_item, log_item):
            actions.append(
                {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            )
    if pending.fence is not None:
        actions.append(fence_check(table, pending.fence))
    return actions


def _failed(reasons: list[dict[str, Any]], index: int) -> bool:
    return index < len(reasons) and reasons[index].get("Code") == "ConditionalCheckFailed"


def _refusal(
    pending: _Pending, reasons: list[dict[str, Any]], start: int
) -> LeaseLost | StreamClosed | ConcurrencyConflict | None:
    """Why the append whose actions begin at `start` was refused, if it was: its lease is lost (the
    fence's check, its last action, failed), or its stream's head's condition failed (closed, or at
    another version). None if neither."""
    fence = pending.fence
    if fence is not None and _failed(reasons, start + pending.actions - 1):
        return LeaseLost(pending.stream, fence.name, fence.owner, fence.token)
    if not _failed(reasons, start):
        return None
    item = reasons[start].get("Item")
    if item is not None and "closed_at" in item:
        return StreamClosed(pending.stream)
    return ConcurrencyConflict(pending.stream, pending.expected, int(item["version"]["N"]) if item else 0)


def _fail(batch: list[_Pending], error: BaseException) -> None:
    for pending in batch:
        failed = StoreWriteFailed(pending.stream, error)
        failed.__cause__ = error
        pending.settle(failed)


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
