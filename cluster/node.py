"""One node of a cluster serving one DynamoDB log: the leases of the conversations it runs.

A node runs a conversation's actor only while it holds the conversation's lease (store/leases.py,
named after its stream). It takes the lease before the first event of a new transfer, and before
it starts the actor of a live conversation no one holds; it renews what it holds every third of
the lease time, in transactions of up to 100 (`tick`); a renewal that finds a lease taken, or a
lease that ran out while renewals failed, stops that conversation here (`Conversations.lease_lost`);
the same pass takes the expired leases of live conversations and resumes them
(`Conversations.take_over`), starts again the actor of any held here that has none
(`Conversations.revive_idle`), and lets go of any held here whose conversation never began
(`Conversations.forget_unborn`). Every append of a conversation's actor is fenced by its lease, so a node
that lost one cannot write even before it knows. docs/cluster.md says why, and what it costs.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Protocol

from cluster.nodes import Node, NodeTable
from store.conversations import STREAM_PREFIX, conversation_stream
from store.leases import HeldLeases, Lease, LeaseTable

log = logging.getLogger(__name__)

# How long a lease lasts unrenewed by default: a stopped node's conversations wait at most this long (and
# a third more, till the next pass) for another node; docs/cluster.md weighs it against the cost.
DEFAULT_LEASE_SECONDS = 30.0
CLAIM_STRIPES = 64
# A lease whose conversation never got a first event (its transfer failed, or its node died first) is
# swept once it has been expired this many lease times: a transfer's first event may be late, not that late.
ABANDONED_AFTER_LEASES = 10


class OwnedElsewhere(Exception):
    """Another node holds the conversation's lease, which has not expired: `url` is where that node's
    API answers (None if its node item says it has stopped or is missing: ask again after
    `retry_after` seconds, when its lease will have expired and this node takes it over)."""

    def __init__(self, conversation_id: str, owner: str, url: str | None, retry_after: int) -> None:
        super().__init__(f"conversation {conversation_id!r} is served by node {owner!r}")
        self.conversation_id = conversation_id
        self.owner = owner
        self.url = url
        self.retry_after = retry_after


class Conversations(Protocol):
    """What the node tells the worker service."""

    def live(self) -> list[str]:
        """The conversations that have not ended."""

    def lease_lost(self, conversation_id: str) -> None:
        """Another node took the conversation (or its lease ran out here): stop its actor."""

    def take_over(self, conversation_id: str) -> None:
        """This node now holds the conversation's lease: resume it from its log."""

    def revive_idle(self, held: list[str]) -> None:
        """These live conversations' leases are held here: start again any whose actor is not running."""

    def forget_unborn(self, held: list[str]) -> None:
        """These leases are held here for conversations that are not live: forget any that never began."""

    def version(self, conversation_id: str) -> int:
        """How many events the conversation's stream holds (0: none yet, a transfer under way or failed)."""


class ClusterNode:
    """This node's id, URL and leases. `start` announces it and renews on a thread of its own; `tick`
    is one pass of it (tests call it with the lease table's clock moved)."""

    def __init__(self, leases: LeaseTable, nodes: NodeTable, node_id: str, lease_seconds: float, url: str | None = None) -> None:
        """`url`: where this node's API answers for the others (None: the API's own URL, given at `start`)."""
        self._leases = leases
        self._nodes = nodes
        self.node_id = node_id
        self.lease_seconds = lease_seconds
        self.url = url
        self._held: HeldLeases[str] = HeldLeases(leases, node_id, lease_seconds, name_of=conversation_stream)
        # One take at a time per conversation (a call and a pass at once would otherwise both take it,
        # the second raising the token under the first's actor); striped, so others' takes go on.
        self._claiming = [threading.Lock() for _ in range(CLAIM_STRIPES)]
        self._conversations: Conversations | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def renew_seconds(self) -> float:
        """How often the node renews: a third of the lease, so two renewals may fail before it is lost."""
        return self._held.renew_seconds

    def start(self, conversations: Conversations, url: str) -> None:
        """Announce the node (at `self.url`, else `url`) and renew on a thread every `renew_seconds`."""
        self._conversations = conversations
        self.url = self.url or url
        self._announce()
        self._thread = threading.Thread(target=self._renew_until_stopped, name="cluster-leases", daemon=True)
        self._thread.start()

    def stop_passes(self) -> None:
        """No pass from now on (nothing renewed, nothing taken over): the first step of a stop, before the
        actors stop, so that no takeover starts an actor meanwhile."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        """Stop the passes and let every lease go now (the actors are stopped before, by the caller), so
        that the other nodes take the conversations over at their next pass, not after the lease time."""
        self.stop_passes()
        self._held.release_all()
        try:
            self._nodes.leave(self.node_id)
        except Exception:  # noqa: BLE001
            log.warning("node %s: its item not marked stopped; it expires by itself", self.node_id, exc_info=True)

    def fence(self, conversation_id: str) -> Lease | None:
        """The lease this node holds for the conversation (None: it holds none)."""
        return self._held.get(conversation_id)

    def claim(self, conversation_id: str) -> Lease:
        """The conversation's lease for this node: the one it holds, or taken now (absent or expired).
        Raises OwnedElsewhere when another node holds it."""
        with self._claiming[hash(conversation_id) % CLAIM_STRIPES]:
            taken = self._held.take(conversation_id)
            if taken is None:
                raise self.elsewhere(conversation_id)
            return taken

    def claim_live(self, conversation_ids: list[str]) -> list[str]:
        """Take the leases of `conversation_ids` that no other node holds (none yet, expired, or this
        node's own from before a restart): at start, and in each pass for the live conversations not
        held here; those taken. One Query for all, a write each."""
        return self._claim_free(conversation_ids, self._leases.all())

    def _claim_free(self, conversation_ids: list[str], leases: list[Lease]) -> list[str]:
        current = {lease.name: lease for lease in leases}
        now = self._leases.now()
        taken = []
        for conversation_id in conversation_ids:
            lease = current.get(conversation_stream(conversation_id))
            if lease is not None and lease.owner != self.node_id and lease.expires_at > now:
                continue
            try:
                self.claim(conversation_id)
            except OwnedElsewhere:
                continue  # another node got there first
            taken.append(conversation_id)
        return taken

    def let_go(self, conversation_id: str) -> None:
        """The conversation has ended here, or never began (its transfer refused before its first event):
        its lease item goes (its stream is closed or absent, so no fenced append depends on the token,
        and the leases' Query keeps to live conversations)."""
        lease = self._held.forget(conversation_id)
        if lease is None:
            return
        try:
            self._leases.delete(lease)
        except Exception:  # noqa: BLE001 - called as the actor stops; the item stays, expired, harmless
            log.warning("conversation %s ended, but its lease item could not be deleted", conversation_id, exc_info=True)

    def still_holds(self, conversation_id: str) -> bool:
        """Whether the table still gives the conversation's lease to this node at the token it holds
        (one strongly consistent read); a lease found taken is forgotten here. What an actor does before
        its first fenced append (a socket opened, effects redone at Connect) is checked by nothing else."""
        held = self._held.get(conversation_id)
        if held is None:
            return False
        current = self._leases.get(conversation_stream(conversation_id))
        if current is not None and (current.owner, current.token) == (held.owner, held.token):
            return True
        self._held.forget(conversation_id, held.token)
        return False

    def lost(self, conversation_id: str, token: int) -> None:
        """An append fenced by the conversation's lease at `token` found it taken: forget it (the next
        pass would find it lost too)."""
        self._held.forget(conversation_id, token)

    def elsewhere(self, conversation_id: str) -> OwnedElsewhere:
        """Who serves the conversation, as the error that says so."""
        lease = self._leases.get(conversation_stream(conversation_id))
        now = self._leases.now()
        if lease is None:
            return OwnedElsewhere(conversation_id, "", None, 1)
        node = self._nodes.get(lease.owner)
        url = node.url if node is not None and node.expires_at > now and lease.owner != self.node_id else None
        return OwnedElsewhere(conversation_id, lease.owner, url, max(1, math.ceil(lease.expires_at - now)))

    def held(self) -> list[str]:
        """The conversations whose leases this node holds."""
        return sorted(self._held.keys())

    def tick(self) -> None:
        """One pass: the node's item and every lease renewed (those lost stop here), then the expired
        leases of live conversations taken and resumed."""
        assert self._conversations is not None, "start the node first"
        self._announce()
        self._renew(self._conversations)
        self._take_over(self._conversations)

    def _announce(self) -> None:
        assert self.url is not None
        self._nodes.announce(Node(self.node_id, self.url, self._leases.now() + self.lease_seconds))

    def _renew(self, conversations: Conversations) -> None:
        for conversation_id in self._held.renew():
            log.warning("conversation %s: its lease was lost; it stops here", conversation_id)
            conversations.lease_lost(conversation_id)

    def _take_over(self, conversations: Conversations) -> None:
        live = conversations.live()
        held = set(self._held.keys())  # read after the live ones, as a claim may come meanwhile
        leases = self._leases.all()
        candidates = [conversation_id for conversation_id in live if conversation_id not in held]
        for conversation_id in self._claim_free(candidates, leases):
            log.info("conversation %s: taken over (its lease had expired)", conversation_id)
            try:
                conversations.take_over(conversation_id)
            except Exception:  # noqa: BLE001 - held now: a later pass starts it (`revive_idle`)
                log.warning("conversation %s: taken over, but not resumed yet", conversation_id, exc_info=True)
        conversations.revive_idle([conversation_id for conversation_id in live if conversation_id in held])
        conversations.forget_unborn(sorted(held.difference(live)))
        self._sweep(conversations, leases, live)

    def _sweep(self, conversations: Conversations, leases: list[Lease], live: list[str]) -> None:
        """Delete the leases of ended conversations that were expired when read and are still at the
        token read. `let_go` deletes a lease once its conversation has ended; a node killed between the
        last event and that delete leaves the item behind, naming a dead node, and no pass would take it
        (its conversation is not live). Only an ended conversation's lease goes: a live one's holder may
        renew it between this pass's read and the delete (a renewal keeps the token), and a lease
        deleted starts again at token 1, under fences already given out; a transfer's lease may expire
        before its first event when that event is late (a node whose appends wait on a contended log,
        its passes late too). A stream that exists and is not open has ended: its version is read
        before the live conversations are read again. A lease with no stream at all goes only once
        expired for `ABANDONED_AFTER_LEASES` lease times."""
        now = self._leases.now()
        live_ids = set(live)
        expired = {
            lease.name.removeprefix(STREAM_PREFIX): lease
            for lease in leases
            if lease.name.startswith(STREAM_PREFIX)
            and lease.name.removeprefix(STREAM_PREFIX) not in live_ids
            and lease.expires_at <= now
        }
        if not expired:
            return
        versions = {conversation_id: conversations.version(conversation_id) for conversation_id in expired}
        # Read again only when some has a stream: a never started one's lease lingers ten lease times.
        still_live = set(conversations.live()) if any(versions.values()) else set()
        for conversation_id, lease in expired.items():
            ended = versions[conversation_id] > 0 and conversation_id not in still_live
            abandoned = versions[conversation_id] == 0 and now - lease.expires_at > ABANDONED_AFTER_LEASES * self.lease_seconds
            if (ended or abandoned) and self._leases.delete(lease):
                log.info("lease %s of %s conversation, left by %s, deleted", lease.name,
                         "an ended" if ended else "a never started", lease.owner)

    def _renew_until_stopped(self) -> None:
        while not self._stopping.wait(self.renew_seconds):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.exception("cluster pass failed")
