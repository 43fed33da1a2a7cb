"""Leases with fencing tokens in the log's DynamoDB table: which node owns what, and until when.

A lease is one item, pk `lease` and sk its name (a conversation's lease is named after its stream),
with `owner` (a node's id), `token` (a number raised by one at every take, so each owner in turn holds
a larger one) and `expires_at` (epoch seconds, on the taker's clock). Every change is conditional on
what was read, so of two nodes taking the same lease at once one wins and the other gets None; an
append fenced by a lease (`DynamoEventStore.append(..., fence=lease)`) checks `owner` and `token` in
its transaction, so a node that lost the lease cannot write even before it learns that it lost it.
docs/cluster.md says why, and what it costs.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from botocore.exceptions import ClientError

from store.dynamo_table import dynamodb_client

log = logging.getLogger(__name__)

LEASES = "lease"
# One TransactWriteItems holds at most 100 actions: renewals go in transactions of that many.
RENEWALS_PER_TRANSACTION = 100


@dataclass(frozen=True)
class Lease:
    """A lease as its holder last wrote or read it."""

    name: str
    owner: str
    token: int
    expires_at: float


def lease_key(name: str) -> dict[str, Any]:
    return {"pk": {"S": LEASES}, "sk": {"S": name}}


def fence_check(table: str, lease: Lease) -> dict[str, Any]:
    """The transaction action that holds only while `lease` is still its owner's, at its token."""
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": lease_key(lease.name),
            "ConditionExpression": "#owner = :owner AND #token = :token",
            "ExpressionAttributeNames": {"#owner": "owner", "#token": "token"},
            "ExpressionAttributeValues": {":owner": {"S": lease.owner}, ":token": {"N": str(lease.token)}},
        }
    }


class LeaseTable:
    """The leases in the log's table.

    Example::

        leases = LeaseTable.open("connect-worker-log", "eu-west-2")
        lease = leases.take("conversation-42", "node-a", ttl=30)   # None: another node holds it
        held, lost = leases.renew([lease], ttl=30)

    `clock` gives the wall-clock time in epoch seconds (`time.time`): expiry is compared on each node's
    own clock, so the lease time must exceed the nodes' clock skew (docs/cluster.md).
    """

    def __init__(self, client: Any, table: str, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    @classmethod
    def open(
        cls, table: str, region: str, *, endpoint_url: str | None = None, clock: Callable[[], float] = time.time
    ) -> LeaseTable:
        """The leases of the log in `table` (the store's `"dynamodb"` settings)."""
        return cls(dynamodb_client(region, endpoint_url), table, clock=clock)

    @property
    def table(self) -> str:
        return self._table

    def now(self) -> float:
        return self._clock()

    def take(self, name: str, owner: str, ttl: float) -> Lease | None:
        """The lease `name` for `owner` until now + `ttl`, with a new token; None if another owner holds
        it and it has not expired.

        Created if absent; taken if expired, or if `owner` holds it already (a node restarted under the
        same id: the new token fences its previous life off). Conditional on the token just read and
        on the expiry, so two takers never both win and a lease renewed meanwhile is not taken.
        """
        now = self._clock()
        current = self.get(name)
        if current is not None and current.owner != owner and current.expires_at > now:
            return None
        token = 1 if current is None else current.token + 1
        taken = Lease(name, owner, token, now + ttl)
        item = lease_key(name) | _attributes(taken)
        try:
            if current is None:
                self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
            else:
                self._client.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="#token = :read AND (#owner = :owner OR expires_at <= :now)",
                    ExpressionAttributeNames={"#token": "token", "#owner": "owner"},
                    ExpressionAttributeValues={
                        ":read": {"N": str(current.token)},
                        ":owner": {"S": owner},
                        ":now": {"N": repr(now)},
                    },
                )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return taken

    def renew(self, leases: Sequence[Lease], ttl: float) -> tuple[list[Lease], list[Lease]]:
        """Push the expiry of every lease still held to now + `ttl`: (held, with their new expiry; lost).

        A lease is held while its item has its owner and token (even past its expiry, if no one took
        it meanwhile). Renewals go in transactions of up to 100; a transaction cancelled on some leases
        is sent again without them.
        """
        held: list[Lease] = []
        lost: list[Lease] = []
        for start in range(0, len(leases), RENEWALS_PER_TRANSACTION):
            kept, gone = self._renew_batch(list(leases[start : start + RENEWALS_PER_TRANSACTION]), ttl)
            held += kept
            lost += gone
        return held, lost

    def _renew_batch(self, batch: list[Lease], ttl: float) -> tuple[list[Lease], list[Lease]]:
        lost: list[Lease] = []
        while batch:
            expires_at = self._clock() + ttl
            actions = [{"Update": self._held_update(lease, expires_at)} for lease in batch]
            try:
                if len(actions) == 1:
                    self._client.update_item(**actions[0]["Update"])
                else:
                    self._client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                code = _code(error)
                if code == "ConditionalCheckFailedException":
                    return [], lost + batch
                if code != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [])
                codes = [reason.get("Code", "None") for reason in reasons]
                refused = {i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"}
                if not refused and not all(code in ("None", "TransactionConflict") for code in codes):
                    raise
                if not refused:
                    # A fenced append's check held one of these items for a moment: send it again.
                    time.sleep(random.uniform(0, 0.02))
                lost += [lease for i, lease in enumerate(batch) if i in refused]
                batch = [lease for i, lease in enumerate(batch) if i not in refused]
                continue
            return [Lease(lease.name, lease.owner, lease.token, expires_at) for lease in batch], lost
        return [], lost

    def _held_update(self, lease: Lease, expires_at: float) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": lease_key(lease.name),
            "UpdateExpression": "SET expires_at = :expires",
            "ConditionExpression": "#owner = :owner AND #token = :token",
            "ExpressionAttributeNames": {"#owner": "owner", "#token": "token"},
            "ExpressionAttributeValues": {
                ":owner": {"S": lease.owner},
                ":token": {"N": str(lease.token)},
                ":expires": {"N": repr(expires_at)},
            },
        }

    def release(self, lease: Lease) -> bool:
        """Let `lease` expire now, if it is still held, so that another node may take it at once; False
        if it was not held any more. The item stays (expired): its token must keep rising."""
        update = self._held_update(lease, 0.0)
        try:
            self._client.update_item(**update)
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete(self, lease: Lease) -> bool:
        """Remove `lease`'s item if it is still held; False if not. Only for a lease whose stream is
        closed: nothing can be appended there any more, so its token need not keep rising, and the
        leases' Query keeps to the live conversations."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=lease_key(lease.name),
                ConditionExpression="#owner = :owner AND #token = :token",
                ExpressionAttributeNames={"#owner": "owner", "#token": "token"},
                ExpressionAttributeValues={":owner": {"S": lease.owner}, ":token": {"N": str(lease.token)}},
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, name: str) -> Lease | None:
        """The lease `name` as the table holds it now (strongly consistent); None if never taken."""
        item = self._client.get_item(TableName=self._table, Key=lease_key(name), ConsistentRead=True).get("Item")
        return _lease(item) if item else None

    def all(self) -> list[Lease]:
        """Every lease, by name (one strongly consistent Query of pk `lease`, page by page)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": LEASES}},
            "ConsistentRead": True,
        }
        leases: list[Lease] = []
        while True:
            answer = self._client.query(**request)
            leases += [_lease(item) for item in answer["Items"]]
            if "LastEvaluatedKey" not in answer:
                return leases
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def expired(self, now: float | None = None) -> list[Lease]:
        """The leases whose expiry has passed at `now` (default: the table's clock), by name."""
        at = self._clock() if now is None else now
        return [lease for lease in self.all() if lease.expires_at <= at]


K = TypeVar("K", bound=Hashable)


class HeldLeases(Generic[K]):
    """The leases one owner (a node) holds, by key, as last written: the map a cluster node keeps of its
    conversations' leases (by conversation id, cluster/node.py) and of its bots' delivery leases (by API
    client id, delivery/ownership.py). Safe to share between threads.

    Example::

        held = HeldLeases(leases, "node-a", 30, name_of=conversation_stream)
        held.take("c-1")          # the lease held, or taken now; None: another owner holds it
        for key in held.renew():  # every third of the lease time
            ...                   # lost: stop what the lease guarded

    `name_of(key)` is the lease's name in the table; `ttl` how long a lease lasts unrenewed; `what` names
    the leases in the log line of a renewal that failed.
    """

    def __init__(
        self, table: LeaseTable, owner: str, ttl: float, *, name_of: Callable[[K], str], what: str = "leases"
    ) -> None:
        self._table = table
        self.owner = owner
        self.ttl = ttl
        self._name_of = name_of
        self._what = what
        self._held: dict[K, Lease] = {}
        self._lock = threading.Lock()

    @property
    def renew_seconds(self) -> float:
        """How often to renew: a third of the lease time, so two renewals may fail before a lease is lost."""
        return self.ttl / 3

    def get(self, key: K) -> Lease | None:
        """The key's lease if held, as last written (the fence for what it guards)."""
        with self._lock:
            return self._held.get(key)

    def keys(self) -> list[K]:
        """The keys whose leases are held."""
        with self._lock:
            return list(self._held)

    def take(self, key: K) -> Lease | None:
        """The key's lease: the one held, or taken now (absent, expired, or this owner's from before a
        restart); None if another owner holds it. Two takes of one key at once may both reach the table
        (the second raising the token under the first): a caller for whom that matters takes one at a time."""
        held = self.get(key)
        if held is not None:
            return held
        taken = self._table.take(self._name_of(key), self.owner, self.ttl)
        if taken is not None:
            with self._lock:
                self._held[key] = taken
        return taken

    def forget(self, key: K, token: int | None = None) -> Lease | None:
        """Drop the key's lease from the map (only while it is at `token`, if given: a fenced write found
        that one taken, and a newer one must stay); the lease dropped, or None."""
        with self._lock:
            lease = self._held.get(key)
            if lease is None or (token is not None and lease.token != token):
                return None
            del self._held[key]
            return lease

    def renew(self) -> list[K]:
        """Renew every lease held (`LeaseTable.renew`) and keep their new expiry; the keys whose leases were
        lost, dropped from the map: taken by another owner, or, when DynamoDB cannot be reached, run out
        by this owner's clock (another owner may have taken them; those not yet run out are kept and tried
        again at the next renewal). A key forgotten or taken again under a new token while the renewal
        ran is left as it is now: the renewal's answer is about the lease it sent."""
        with self._lock:
            mine = dict(self._held)
        key_of = {lease.name: key for key, lease in mine.items()}
        try:
            renewed, lost = self._table.renew(list(mine.values()), self.ttl)
        except Exception:  # noqa: BLE001 - DynamoDB out of reach: what has run out is lost all the same
            log.warning("renewing %d %s failed", len(mine), self._what, exc_info=True)
            now = self._table.now()
            renewed, lost = [], [lease for lease in mine.values() if lease.expires_at <= now]
        gone: list[K] = []
        with self._lock:
            for lease in renewed:
                key = key_of[lease.name]
                if self._same(key, lease):
                    self._held[key] = lease
            for lease in lost:
                key = key_of[lease.name]
                if self._same(key, lease):
                    del self._held[key]
                    gone.append(key)
        return gone

    def _same(self, key: K, lease: Lease) -> bool:
        """Whether the map still holds `lease` for `key`, at its token (under the lock)."""
        current = self._held.get(key)
        return current is not None and current.token == lease.token

    def release_all(self) -> None:
        """Let every lease go now (a clean stop), so that another owner takes them at once; one that cannot
        be released runs out by itself within the lease time."""
        with self._lock:
            held = list(self._held.values())
            self._held.clear()
        for lease in held:
            try:
                self._table.release(lease)
            except Exception:  # noqa: BLE001 - the lease then runs out by itself
                log.warning("lease %s not released; it expires within %s s", lease.name, self.ttl, exc_info=True)


def _attributes(lease: Lease) -> dict[str, Any]:
    return {
        "owner": {"S": lease.owner},
        "token": {"N": str(lease.token)},
        "expires_at": {"N": repr(lease.expires_at)},
    }


def _lease(item: dict[str, Any]) -> Lease:
    return Lease(item["sk"]["S"], item["owner"]["S"], int(item["token"]["N"]), float(item["expires_at"]["N"]))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
