"""The nodes of a cluster in the log's table: each node's id, the URL its bots' API answers at, and
until when it is alive (renewed with its leases). A node forwards a call for a conversation another
node owns to that node's URL (cluster/forward.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NODES = "node"


@dataclass(frozen=True)
class Node:
    node_id: str
    url: str
    expires_at: float


class NodeTable:
    """Node items (pk `node`, sk the node's id) in the log's table, through its DynamoDB client."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def announce(self, node: Node) -> None:
        """Write (or renew) `node`'s item: one unconditional PutItem, as only the node writes its own."""
        self._client.put_item(TableName=self._table, Item=_key(node.node_id) | _attributes(node))

    def get(self, node_id: str) -> Node | None:
        item = self._client.get_item(TableName=self._table, Key=_key(node_id), ConsistentRead=True).get("Item")
        return None if item is None else Node(node_id, item["url"]["S"], float(item["expires_at"]["N"]))

    def leave(self, node_id: str) -> None:
        """The node stops: its item says so at once (expired), for the others' forwarding."""
        self._client.update_item(
            TableName=self._table,
            Key=_key(node_id),
            UpdateExpression="SET expires_at = :zero",
            ExpressionAttributeValues={":zero": {"N": "0"}},
        )


def _key(node_id: str) -> dict[str, Any]:
    return {"pk": {"S": NODES}, "sk": {"S": node_id}}


def _attributes(node: Node) -> dict[str, Any]:
    return {"url": {"S": node.url}, "expires_at": {"N": repr(node.expires_at)}}
