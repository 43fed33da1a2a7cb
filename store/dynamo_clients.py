"""The bots' API clients as items of the log's DynamoDB table, so that every node sharing the table
knows every bot: a token made at one node authenticates at any, and a revoke refuses it at all of them
from the next request on (each request reads the table; nothing is cached).

Two items a client, written together by one transaction, each on `attribute_not_exists`:

| item | pk | sk | attributes |
|---|---|---|---|
| the client | `client` | its id | `name`, `admin`, `allowed_hosts`, `created_at`, `revoked_at` once revoked, `token_sha256`, `signing_secret` |
| its token | `client-token` | the token's SHA-256 | `client_id`, and the same `name`, `admin`, `allowed_hosts`, `created_at`, `revoked_at` |

The token item makes `authenticate` one strongly consistent GetItem by the token's hash (the table has
no index, and a scan per request would cost the whole table); it repeats the client's fields so that no
second read is needed, and `revoke` sets `revoked_at` on both items in one transaction. As in the
SQLite table, the token is kept only as its hash and the signing secret as is (the deliverer signs
with it); neither is ever an event.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from botocore.exceptions import ClientError

from store.clients import Client, NewClient, UnknownClient, hash_token, new_client

CLIENTS = "client"
TOKENS = "client-token"


def client_key(client_id: str) -> dict[str, Any]:
    return {"pk": {"S": CLIENTS}, "sk": {"S": client_id}}


def token_key(digest: str) -> dict[str, Any]:
    return {"pk": {"S": TOKENS}, "sk": {"S": digest}}


class DynamoClientRegistry:
    """The API clients in the DynamoDB table `table`, through `client` (the log's own boto3 client,
    `DynamoEventStore.client`). The same calls as `ClientRegistry`; safe to share between threads."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def create(self, name: str, *, admin: bool = False, allowed_hosts: tuple[str, ...] = ()) -> NewClient:
        made = new_client(name, admin=admin, allowed_hosts=allowed_hosts, at=time.time())
        fields = _fields(made.client)
        digest = hash_token(made.token)
        client_item = client_key(made.client.id) | fields | {
            "token_sha256": {"S": digest},
            "signing_secret": {"S": made.signing_secret},
        }
        token_item = token_key(digest) | fields | {"client_id": {"S": made.client.id}}
        self._client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
                for item in (client_item, token_item)
            ]
        )
        return made

    def list(self) -> list[Client]:
        """Every client, revoked ones too, oldest first."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": CLIENTS}},
            "ConsistentRead": True,
        }
        clients: list[Client] = []
        while True:
            answer = self._client.query(**request)
            clients += [_client(item["sk"]["S"], item) for item in answer["Items"]]
            if "LastEvaluatedKey" not in answer:
                return sorted(clients, key=lambda client: (client.created_at, client.id))
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def get(self, client_id: str) -> Client:
        return _client(client_id, self._item(client_id))

    def revoke(self, client_id: str) -> Client:
        """Refuse the client's token from now on, at every node (revoking twice keeps the first time)."""
        item = self._item(client_id)
        update = {
            "TableName": self._table,
            "UpdateExpression": "SET revoked_at = if_not_exists(revoked_at, :now)",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":now": {"N": repr(time.time())}},
        }
        self._client.transact_write_items(
            TransactItems=[
                {"Update": update | {"Key": client_key(client_id)}},
                {"Update": update | {"Key": token_key(item["token_sha256"]["S"])}},
            ]
        )
        return self.get(client_id)

    def authenticate(self, token: str) -> Client | None:
        """The client whose token this is, unless it is revoked; None for any token not ours."""
        digest = hash_token(token)
        item = self._get(token_key(digest))
        # Looked up by hash, so the timing says nothing about the token; compared in constant time anyway.
        if item is None or not secrets.compare_digest(item["sk"]["S"], digest):
            return None
        client = _client(item["client_id"]["S"], item)
        return None if client.revoked else client

    def signing_secret(self, client_id: str | None) -> str | None:
        """The `whsec_` secret the client's webhooks are signed with; None for no client or an unknown one."""
        if client_id is None:
            return None
        item = self._get(client_key(client_id))
        return None if item is None else item["signing_secret"]["S"]

    def close(self) -> None:
        """Nothing to close: the boto3 client is the log's."""

    def __enter__(self) -> DynamoClientRegistry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _item(self, client_id: str) -> dict[str, Any]:
        item = self._get(client_key(client_id))
        if item is None:
            raise UnknownClient(client_id)
        return item

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                return None  # a key DynamoDB refuses (an empty id): no client has it
            raise


def _fields(client: Client) -> dict[str, Any]:
    return {
        "name": {"S": client.name},
        "admin": {"BOOL": client.admin},
        "allowed_hosts": {"L": [{"S": host} for host in client.allowed_hosts]},
        "created_at": {"N": repr(client.created_at)},
    }


def _client(client_id: str, item: dict[str, Any]) -> Client:
    revoked = item.get("revoked_at")
    return Client(
        id=client_id,
        name=item["name"]["S"],
        admin=item["admin"]["BOOL"],
        allowed_hosts=tuple(host["S"] for host in item["allowed_hosts"]["L"]),
        created_at=float(item["created_at"]["N"]),
        revoked_at=None if revoked is None else float(revoked["N"]),
    )
