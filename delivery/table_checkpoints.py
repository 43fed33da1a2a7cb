"""The webhook deliverer's checkpoints in the log's DynamoDB table, for several nodes (a cluster): any
node that takes a bot's delivery lease over continues each of its conversations from there.

| item | pk | sk | attributes |
|---|---|---|---|
| a conversation's checkpoint | `checkpoint#<client id>` | the conversation id | `delivered_seq`, `handed_back` |
| a conversation still owed messages | `owed#<client id>` | the conversation id | none: there until its hand-back is delivered |

(`-` for the client of conversations from before API clients.) Both are under the client's id so that
a node taking a bot over finds what it owes with one Query of `owed#<client id>`, whatever the size of
the bot's history.

- `ensure` makes a conversation's two items when a node's tail first sees it owe something, in one
  transaction: the checkpoint at 0 where there is none (`if_not_exists`, so progress never moves
  back) and the `owed#` item, both only while the checkpoint is not handed back. Any node may, with no
  lease: it only says "owed", never moves progress. A node remembers the last `ENSURED` conversations
  it ensured, so its tail, which sees an active conversation owing again every second, writes once.
- `delivered` moves a checkpoint, in a transaction with a ConditionCheck on the bot's delivery lease
  (its owner and token, `store.leases.fence_check`): a node that lost the lease cannot write, even
  before it learns so (`DeliveryFenced`). The hand-back's write deletes the `owed#` item too.

The tail's own position stays in the node's SQLite file (`Checkpoints`): each node reads the whole log,
and every conversation it sees owing gets its items here before the position moves past it.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from store.leases import Lease, fence_check

CHECKPOINTS = "checkpoint#"
OWED = "owed#"
BEFORE_CLIENTS = "-"
ENSURED = 100_000  # conversations a node remembers having ensured; forgetting one costs one write again


class DeliveryFenced(Exception):
    """The bot's delivery lease is no longer this node's: the checkpoint was not moved."""

    def __init__(self, client_id: str | None) -> None:
        super().__init__(f"the delivery lease of API client {client_id!r} is another node's now")
        self.client_id = client_id


def _client(client_id: str | None) -> str:
    return client_id if client_id is not None else BEFORE_CLIENTS


def checkpoint_key(client_id: str | None, conversation_id: str) -> dict[str, Any]:
    return {"pk": {"S": CHECKPOINTS + _client(client_id)}, "sk": {"S": conversation_id}}


def owed_key(client_id: str | None, conversation_id: str) -> dict[str, Any]:
    return {"pk": {"S": OWED + _client(client_id)}, "sk": {"S": conversation_id}}


class TableCheckpoints:
    """Delivery checkpoints in `table`, through `client` (the log's boto3 client). Thread-safe."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table
        self._ensured: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def ensure(self, owed: Mapping[str, str | None]) -> None:
        """These conversations (id -> API client) owe messages: a checkpoint (at 0 where there is none)
        and an `owed#` item for each, unless handed back already."""
        for conversation_id, client_id in owed.items():
            with self._lock:
                if conversation_id in self._ensured:
                    continue
            self._ensure(conversation_id, client_id)
            with self._lock:
                self._ensured[conversation_id] = None
                if len(self._ensured) > ENSURED:
                    self._ensured.popitem(last=False)

    def _ensure(self, conversation_id: str, client_id: str | None) -> None:
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": checkpoint_key(client_id, conversation_id),
                        "UpdateExpression": "SET delivered_seq = if_not_exists(delivered_seq, :zero),"
                        " handed_back = if_not_exists(handed_back, :no)",
                        "ConditionExpression": "attribute_not_exists(pk) OR handed_back = :no",
                        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":no": {"BOOL": False}},
                    }
                },
                {"Put": {"TableName": self._table, "Item": owed_key(client_id, conversation_id)}},
            ]
        )  # refused: handed back already, owed nothing

    def owed(self, client_id: str | None) -> list[str]:
        """The client's conversations not yet handed back."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": OWED + _client(client_id)}},
            "ConsistentRead": True,
        }
        owed: list[str] = []
        while True:
            answer = self._client.query(**request)
            owed += [item["sk"]["S"] for item in answer["Items"]]
            if "LastEvaluatedKey" not in answer:
                return owed
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def progress(self, client_id: str | None, conversation_id: str) -> tuple[int, bool]:
        """(last seq delivered, handed back) of a conversation; (0, False) if nothing was yet."""
        item = self._client.get_item(
            TableName=self._table, Key=checkpoint_key(client_id, conversation_id), ConsistentRead=True
        ).get("Item")
        return (0, False) if item is None else (int(item["delivered_seq"]["N"]), item["handed_back"]["BOOL"])

    def delivered(self, fence: Lease, client_id: str | None, conversation_id: str, seq: int, *, handed_back: bool) -> None:
        """Record a delivery, only while `fence` (the client's delivery lease) is still this node's;
        DeliveryFenced if it is not (nothing written)."""
        actions: list[dict[str, Any]] = [
            fence_check(self._table, fence),
            {
                "Update": {
                    "TableName": self._table,
                    "Key": checkpoint_key(client_id, conversation_id),
                    "UpdateExpression": "SET delivered_seq = :seq, handed_back = :back",
                    "ExpressionAttributeValues": {":seq": {"N": str(seq)}, ":back": {"BOOL": handed_back}},
                }
            },
        ]
        if handed_back:
            actions.append({"Delete": {"TableName": self._table, "Key": owed_key(client_id, conversation_id)}})
        if self._transact(actions):
            raise DeliveryFenced(client_id)

    def _transact(self, actions: list[dict[str, Any]]) -> bool:
        """Send the transaction; True if a condition refused it (nothing written). Sent again when another
        transaction held one of its items for a moment (another node's `ensure`, or a lease's renewal)."""
        while True:
            try:
                self._client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in codes:
                    return True
                if "TransactionConflict" not in codes:
                    raise
                time.sleep(random.uniform(0, 0.02))
                continue
            return False
