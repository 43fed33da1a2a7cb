"""Which node delivers a bot's webhooks, when several nodes serve one DynamoDB log: the one holding the
bot's delivery lease (store/leases.py), named `delivery#<client id>` (`delivery#-` for conversations
from before API clients).

Every node's tail reads the whole log; a node posts the messages of a conversation only while it holds
the lease of the conversation's API client, and every checkpoint it writes is fenced by that lease
(delivery/table_checkpoints.py), so a node that lost it cannot move a checkpoint even before it learns
so. A node takes a bot's lease when it first meets one of its conversations and no live node holds it,
and at each pass (`renew_seconds`) renews what it holds and takes the expired leases of the bots it
knows of: so when a node dies, another takes its bots over within the lease time and continues each
conversation from its checkpoint. docs/dynamodb-store.md ("Webhook delivery in a cluster") says why.
"""

from __future__ import annotations

from store.leases import HeldLeases, Lease, LeaseTable

PREFIX = "delivery#"
BEFORE_CLIENTS = "-"


def lease_name(client_id: str | None) -> str:
    return PREFIX + (client_id if client_id is not None else BEFORE_CLIENTS)


class DeliveryLeases:
    """This node's delivery leases, one per API client it delivers for, in a `HeldLeases` map (the one
    the conversations' leases use too). Safe to share between threads."""

    def __init__(self, leases: LeaseTable, node_id: str, lease_seconds: float) -> None:
        self._leases = leases
        self.node_id = node_id
        self.lease_seconds = lease_seconds
        self._held: HeldLeases[str | None] = HeldLeases(
            leases, node_id, lease_seconds, name_of=lease_name, what="delivery leases"
        )

    @property
    def table(self) -> str:
        return self._leases.table

    @property
    def renew_seconds(self) -> float:
        """A third of the lease, so two renewals may fail before it is lost (as the conversations' leases)."""
        return self._held.renew_seconds

    def held(self, client_id: str | None) -> Lease | None:
        """The client's lease if this node holds it, as last written (the fence for its checkpoints)."""
        return self._held.get(client_id)

    def take(self, client_id: str | None) -> Lease | None:
        """The client's lease for this node: the one it holds, or taken now if no live node holds it;
        None if another node does."""
        return self._held.take(client_id)

    def renew(self) -> list[str | None]:
        """Renew every lease held; the clients whose leases were lost (taken by another node, or run out
        while renewals failed): this node must stop delivering for them."""
        return self._held.renew()

    def lost(self, client_id: str | None) -> None:
        """A fenced write found the lease taken: forget it."""
        self._held.forget(client_id)

    def release_all(self) -> None:
        """Let every lease go now (a clean stop), so another node takes the bots over at its next pass."""
        self._held.release_all()
