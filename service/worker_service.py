"""The worker service: what the bots' HTTP API calls.

It resolves the worker, routes each conversation to the supervisor of its
region and secret (one per Connect region and cross-account role in use,
created on first use, so workers whose `Secret`s differ never share clients),
runs the timer service, on start recovers every conversation that has not
ended, and reads workers' queues through the same clients
(service/queue_metrics.py).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pykka
from structlog.contextvars import bound_contextvars

from actors.conversation import RETRY_BACKOFF, get_state, tell
from actors.later import LATER
from actors.observer import Observer
from actors.pooled import DEFAULT_POOL
from threads.task_pool import TaskPool
from actors.region import RegionSupervisor
from actors.worker_tools import RunConnector, WorkerTools
from actors.timers import TimerService
from cluster import ClusterNode, OwnedElsewhere
from connect_client import ChatSocket, RegionClients, static_session
from events import ConversationState, armed_timers, decode
from events.commands import Command, SwitchRegion, TimerDue, Transfer
from events.conversation_events import ConnectTarget, FailoverSwitched
from events.rejection import Rejected
from events.worker import (
    WorkerState,
    auto_disconnect_rules,
    connect_target,
    short_link_rule,
    slash_command_rules,
    translation_rule,
)
from events.worker_queue import queue_target
from logs import Progress
from service.failover_orders import FailoverOrders, OrderHeld
from service.falls import Falls
from service.queue_metrics import DEFAULT_QUEUE_METRICS_TTL, QueueMetricsReader, QueueReading
from service.short_link_key import short_link_key
from service.single_flight_cache import SingleFlightCache
from store import EventStore, LeaseLost
from store.content import ContentRegistry
from store.conversations import LiveFold, conversation_stream, live_conversations, load_conversation
from store.workers import UnknownWorker, WorkerRegistry
from vault import LocalVault, Vault

log = logging.getLogger(__name__)

# (region, secret) -> the region's clients, signed with the cross-account role the vault reference
# `secret` names (None: the service's own credentials, for conversations logged before roles were
# assumed). Called once per pair: its clients are shared by every conversation there.
RegionClientsFactory = Callable[[str, str | None], RegionClients]

# Whose clients a supervisor holds: (region, secret).
_Key = tuple[str, str | None]

ASK_TIMEOUT = 60.0
# A failover order waits no longer for a conversation busy with a slow call: it is asked again next pass.
ORDER_ASK_TIMEOUT = 10.0
LEAVING_THREADS = 8
# Recovered actors handed to the actors' pool at once: few enough that their sockets start connecting
# while the next ones are started (the API and the reconnections go on beside recovery), many enough
# that handing them over costs one lock and one wake-up call a batch instead of one each.
START_BATCH = 32


class WorkerDisabled(Exception):
    def __init__(self, worker_id: str, name: str) -> None:
        super().__init__(f"worker {worker_id!r} ({name}) is disabled and takes no transfers")
        self.worker_id = worker_id


class ConversationNotFound(LookupError):
    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"no conversation with id {conversation_id!r}")
        self.conversation_id = conversation_id


def local_regions(endpoint_url: str) -> RegionClientsFactory:
    """Every region served by one local Amazon Connect (or any single endpoint), signed with dummy keys
    whatever the secret: it checks no signature, so no role is assumed and no secret read."""
    return lambda region, secret: RegionClients.create(region, endpoint_url=endpoint_url, session=static_session())


class WorkerService:
    def __init__(
        self,
        store: EventStore,
        region_clients: RegionClientsFactory,
        *,
        clock: Callable[[], float] = time.time,
        socket_factory: Callable[..., ChatSocket] = ChatSocket,
        queue_metrics_ttl: float = DEFAULT_QUEUE_METRICS_TTL,
        run_connector: RunConnector | None = None,
        vault: Vault | None = None,
        observer: Observer | None = None,
        cluster: ClusterNode | None = None,
    ) -> None:
        """`run_connector`: how slash commands' `executeApi` actions call a connector (connectors/).
        `vault`: where vault references are resolved; None, the local vault in the store's file.
        `observer`: told what the conversations, the timers and the Connect clients do (the service's
        metrics, metrics/); None, nobody. `cluster`: this node, when several serve one DynamoDB log
        (docs/cluster.md): a conversation's actor runs here only while the node holds its lease, and a
        call for one another node holds raises OwnedElsewhere, and each failover order is given to this
        node's own conversations whatever another node recorded (service/failover_orders.py); None, the
        only node."""
        self.store = store
        self.cluster = cluster
        self.workers = WorkerRegistry(store)
        self._region_clients = region_clients
        self._clock = clock
        self._socket_factory = socket_factory
        self._regions: dict[_Key, RegionSupervisor] = {}
        # Each key's clients, made by one caller while the others wait (kept for good: never stale).
        self._clients_made: SingleFlightCache[_Key, RegionClients] = SingleFlightCache(ttl=math.inf, clock=time.monotonic)
        self._region_of: dict[str, _Key] = {}
        self._worker_of: dict[str, str] = {}  # conversation -> worker, for failover orders
        self._lock = threading.Lock()
        self._observer = observer or Observer()
        self._recovered = threading.Event()
        self._stopping = threading.Event()
        self._recovery_failed = False
        # Recovery's fold of every live conversation, until the status writer takes it (`take_live_fold`).
        self._live_fold: Future[LiveFold | None] = Future()
        self._recovery = threading.Thread(target=self._recover_then_watch_orders, name="recovery", daemon=True)
        self.timers = TimerService(self._timer_due, clock, fired_late=self._observer.timer_fired)
        self._falls = Falls(RETRY_BACKOFF)
        self._idle_before: set[str] = set()  # held here without an actor at the cluster's last pass
        self._reviving: set[str] = set()  # conversations whose revive is waiting its turn
        self._transferring: dict[str, int] = {}  # transfers under way, by conversation
        # Ids whose failed first transfer is being forgotten (`_forget_unborn`): a transfer of one waits.
        self._forgetting: dict[str, threading.Event] = {}
        self._unborn_before: set[str] = set()  # held here with no stream at the cluster's last pass
        # Leaving the chats failover moves leave behind, off the conversations' threads (one region down
        # may hang each leave for the clients' whole timeout; a few at a time is enough). Daemon threads:
        # a stopped service's process exits without waiting for a leave under way (`_leave`).
        self._leaving = TaskPool(LEAVING_THREADS, name="chat-leave")
        self.failover_orders = FailoverOrders(
            store, conversations_of=self.conversations_of, take_order=self.take_failover_order, clock=clock,
            every_node=cluster is not None,
        )
        self._queues = QueueMetricsReader(
            lambda region, secret: self._supervisor_in((region, secret)).clients.contacts,
            ttl=queue_metrics_ttl,
            clock=clock,
        )
        self._tools = WorkerTools(
            ContentRegistry(store),
            run_connector,
            secret=short_link_key(vault if vault is not None else LocalVault(store.path)),
        )

    def clock(self) -> float:
        return self._clock()

    def start(self, node_url: str = "") -> WorkerService:
        """Start the timer service and, on a thread of its own, recover every conversation that has not
        ended, then carry out the failover orders not yet carried out and watch for new ones. Returns at
        once: the API serves meanwhile (a call for a conversation not yet resumed starts its actor from
        the log there and then, `_actor`; recovery then finds it running and leaves it be). In a cluster
        the node is announced at its configured URL, else `node_url` (the API's), and renews its leases."""
        self.timers.start()
        if self.cluster is not None:
            self.cluster.start(self, node_url)
        self._recovery.start()
        return self

    @property
    def recovered(self) -> bool:
        """Whether every live conversation found at the start has its actor again and the failover
        orders are watched."""
        return self._recovered.is_set()

    @property
    def recovery_failed(self) -> bool:
        """Whether recovery stopped on an error (its log says which): the service is then not ready."""
        return self._recovery_failed

    def wait_recovered(self, timeout: float | None = None) -> bool:
        """Wait until `recovered` (up to `timeout` seconds); whether it is."""
        return self._recovered.wait(timeout)

    def take_live_fold(self, timeout: float) -> LiveFold | None:
        """Every live conversation as recovery folded it at the start, waiting up to `timeout` seconds
        for it to have read them, given once (after that, and when recovery did not fold them all, in a
        cluster, on a failure, or took longer: None). The status writer's first count takes it
        (service/live_counts.py), instead of folding them all again beside recovery."""
        try:
            folded = self._live_fold.result(timeout)
        except TimeoutError:
            return None
        self._drop_fold()
        return folded

    def _share_fold(self, folded: LiveFold | None) -> None:
        """Give recovery's fold (None: there is none to give) to a `take_live_fold`, unless given already."""
        with self._lock:
            if not self._live_fold.done():
                self._live_fold.set_result(folded)

    def _drop_fold(self) -> None:
        """Hold the fold no longer (its states are the ones the actors started from): None from now on."""
        self._share_fold(None)
        with self._lock:
            self._live_fold = _NO_FOLD

    def stop(self) -> None:
        self._stopping.set()
        self._drop_fold()  # a count waiting for it folds for itself
        if self.cluster is not None:
            self.cluster.stop_passes()  # no takeover starts an actor while they stop
        if self._recovery.is_alive():
            self._recovery.join()  # it stops between two conversations
        self.failover_orders.stop()
        self.timers.stop()
        with self._lock:
            regions = list(self._regions.values())
        for region in regions:
            region.stop()
        if self.cluster is not None:
            self.cluster.stop()  # after the actors: no append of ours follows the release

    def _recover_then_watch_orders(self) -> None:
        """The recovery thread: a failover order waits for recovery, which notes whose every live
        conversation is (`conversations_of`)."""
        try:
            self.recover()
        except Exception:
            # The conversations not reached yet are still started on demand, by a bot's call or a timer,
            # but failover orders would miss them: /readyz says so (service/readiness.py).
            log.exception("recovery failed")
            self._recovery_failed = True
            self._share_fold(None)
            return
        if not self._stopping.is_set():
            self.failover_orders.start()
            self._recovered.set()

    def recover(self) -> int:
        """Recover every live conversation: first every armed timer is scheduled, so that each fires at
        its due time however long starting thousands of actors takes (a timer due meanwhile starts its
        conversation's actor itself); then each conversation gets its actor, which reconnects and
        redoes its unfinished effects, its chat socket connecting on the hub while the next actors start.
        A conversation some call has started meanwhile keeps its actor (`RegionSupervisor.actor` starts
        none while one runs, and folds the log again if it has grown since it was read here)."""
        position = self.store.last_position()  # before the list: see LiveFold
        live = live_conversations(self.store)
        if self.cluster is not None:
            live = self.cluster.claim_live(live)  # only those no other node serves
        with Progress("reading live conversations", len(live), log=log, unit="conversations") as progress:
            folded = {}
            for conversation_id in live:
                folded[conversation_id] = load_conversation(self.store, conversation_id)
                progress.advance()
        self._share_fold(LiveFold(position, folded) if self.cluster is None else None)
        states = [state for state in folded.values() if state.target is not None]
        for state in states:
            for timer in armed_timers(state):
                self.timers.schedule(state.conversation_id, timer.timer_id, timer.due_at)
        with Progress("starting recovered conversations", len(states), log=log, unit="conversations") as progress:
            for first in range(0, len(states), START_BATCH):
                with DEFAULT_POOL.batch():  # their first runs go to the pool together
                    for state in states[first : first + START_BATCH]:
                        if self._stopping.is_set():
                            return 0
                        self._resume(state)
                        progress.advance()
        if states:
            log.info("recovered %d live conversations", len(states))
        return len(states)

    def _resume(self, state: ConversationState) -> None:
        """A live conversation's actor started from `state` (it reconnects and redoes what is unfinished)."""
        assert state.target is not None and state.worker_id is not None
        with bound_contextvars(conversation_id=state.conversation_id, worker_id=state.worker_id):
            self._note_worker(state.conversation_id, state.worker_id)
            self._region(_key_of(state.target), state.conversation_id).actor(state.conversation_id, state)

    def transfer(
        self,
        conversation_id: str,
        worker_id: str,
        *,
        bot_name: str,
        user_name: str | None,
        context: dict[str, Any],
        deliver_to: str | None,
        client_id: str | None = None,
    ) -> ConversationState:
        """Hand a conversation to a worker; raises UnknownWorker, WorkerDisabled or Rejected.

        The conversation starts under the worker's failover order in force; if a newer order came
        while it was being handed over (which the order's carrying out may have missed), it takes
        that one at once."""
        worker = self.workers.state(worker_id)
        config = worker.config
        assert config is not None
        if not config.enabled:
            raise WorkerDisabled(worker_id, config.name)
        target = connect_target(config)
        command = Transfer(
            at=self._clock(),
            worker_id=worker_id,
            bot_name=bot_name,
            user_name=user_name,
            context=context,
            deliver_to=deliver_to or "",
            target=target,
            initial_connection_message=config.data.initial_connection_message,
            auto_disconnect=auto_disconnect_rules(config),
            client_id=client_id,
            slash_commands=slash_command_rules(config),
            ingress_translation=translation_rule(config.data.ingress_translation_config),
            egress_translation=translation_rule(config.data.egress_translation_config),
            short_links=short_link_rule(config),
            failover_order=worker.failover_order,
        )
        # A conversation already handed over stays where it is: the transfer goes to its own actor,
        # which refuses it; the first routing of an id wins (`_region`). In a cluster, the node that
        # takes the lease (before the first event) runs it; OwnedElsewhere if another node holds it.
        self._transfer_begins(conversation_id)
        failed = False
        try:
            if self.cluster is not None:
                self.cluster.claim(conversation_id)
            ref = self._region(self._home_of(conversation_id, target), conversation_id).actor(conversation_id)
            state: ConversationState = ref.ask(command, timeout=ASK_TIMEOUT)
        except LeaseLost:
            assert self.cluster is not None  # only fenced appends raise it (and the actor told the node)
            raise self.cluster.elsewhere(conversation_id) from None
        except Rejected:
            failed = True
            raise
        except (OwnedElsewhere, pykka.Timeout):
            raise  # another node's; or still under way at its actor, whose event may land: kept
        except Exception:
            # Failed otherwise (the log unreachable): on one node, its log read after says whether it
            # began. In a cluster an append DynamoDB left in doubt could land between that read and the
            # lease's delete, a live conversation's lease gone: the passes see to it (`forget_unborn`).
            failed = self.cluster is None
            raise
        finally:
            self._transfer_ends(conversation_id, failed)
        self._note_worker(conversation_id, worker_id)  # only once its Transferred is in the log
        latest = self.workers.state(worker_id)
        if latest.failover_order > state.failover_order:
            # Told, not asked: the transfer is durable and answered whatever the new chat's region is doing.
            tell(ref, self._order_of(latest))
        return state

    def _transfer_begins(self, conversation_id: str) -> None:
        """Count a transfer of the conversation as under way, once no failed one of it is being forgotten:
        the forgetting stops the id's actor and lets its routing and lease go, which this one would find
        gone under it (its actor dead: a 500; or its first event landed and its actor stopped after)."""
        while True:
            with self._lock:
                forgetting = self._forgetting.get(conversation_id)
                if forgetting is None:
                    self._transferring[conversation_id] = self._transferring.get(conversation_id, 0) + 1
                    return
            forgetting.wait()

    def _transfer_ends(self, conversation_id: str, failed: bool) -> None:
        """The transfer is over. The last of an id's transfers under way, when it failed, forgets the id
        if it never began (`_forget_unborn`); the transfers that come meanwhile wait for that."""
        with self._lock:
            self._transferring[conversation_id] -= 1
            if self._transferring[conversation_id]:
                return
            del self._transferring[conversation_id]
            forgetting = self._start_forgetting(conversation_id) if failed else None
        if forgetting is not None:
            try:
                self._forget_unborn(conversation_id)
            finally:
                self._stop_forgetting(conversation_id, forgetting)

    def _start_forgetting(self, conversation_id: str) -> threading.Event | None:
        """(The lock held.) Mark the id as being forgotten, unless a transfer of it is under way or it is
        being forgotten already (None): its transfers wait until `_stop_forgetting`."""
        if conversation_id in self._transferring or conversation_id in self._forgetting:
            return None
        forgetting = self._forgetting[conversation_id] = threading.Event()
        return forgetting

    def _stop_forgetting(self, conversation_id: str, forgetting: threading.Event) -> None:
        with self._lock:
            del self._forgetting[conversation_id]
        forgetting.set()

    def forget_unborn(self, held: list[str]) -> None:
        """A cluster pass's, for the conversations whose leases this node holds that are not live: one
        found so at two passes in a row with no transfer of it under way here is forgotten if it never
        began (`_forget_unborn`): a first transfer that failed other than by refusal (the log unreachable,
        its actor's answer timed out), once its outcome is settled: a pass later (a third of the lease
        time), an append DynamoDB left in doubt has landed or never will, and its actor, if one runs, is
        asked for its state, which it answers only once done with what came before (the transfer among
        them); one that does not answer within ORDER_ASK_TIMEOUT keeps it all for a later pass."""
        with self._lock:
            quiet = {conversation_id for conversation_id in held if conversation_id not in self._transferring}
        for conversation_id in quiet & self._unborn_before:
            with self._lock:
                forgetting = self._start_forgetting(conversation_id)
            if forgetting is None:
                continue
            try:
                ref = self.running_actor(conversation_id)
                if ref is not None:
                    get_state(ref, ORDER_ASK_TIMEOUT)
                self._forget_unborn(conversation_id)
            except (pykka.Timeout, pykka.ActorDeadError):
                pass  # busy still, or stopping (an ended conversation's actor lets its lease go itself)
            finally:
                self._stop_forgetting(conversation_id, forgetting)
        self._unborn_before = quiet

    def _forget_unborn(self, conversation_id: str) -> None:
        """Nothing is kept here of a conversation that never began (its stream has no event): neither its
        actor nor its routing nor, in a cluster, its lease. Kept, a bot sending transfers refused (a
        display name too long) or failing (the log unreachable) under new ids would grow them without
        end, each lease renewed at every pass. Called while no transfer of it is under way (those that
        come wait) and its actor is idle: after a transfer refused; on a single node, after one that
        failed otherwise (its append wrote nothing, or it never reached its actor); in a cluster, from
        the passes (`forget_unborn`). A refused second transfer of a live conversation leaves it as it
        is; so does a log that cannot be read now. A transfer whose actor's answer timed out keeps all
        three (its event may still land): in a cluster the passes let them go once its actor is idle;
        on a single node they stay, with no lease to renew, until the id's next transfer or the stop."""
        try:
            if self.version(conversation_id) > 0:
                return
        except Exception:  # noqa: BLE001 - the log unreachable: the failure already answered says so
            log.warning("conversation %s: kept after its transfer failed, as the log could not be read", conversation_id,
                        exc_info=True)
            return
        self._stop_actor(conversation_id)
        with self._lock:
            self._region_of.pop(conversation_id, None)
        if self.cluster is not None:
            self.cluster.let_go(conversation_id)

    def take_failover_order(self, conversation_id: str, worker: WorkerState) -> FailoverSwitched | None:
        """Give the worker's failover order in force to one of its conversations; the event it
        recorded (None: it has ended, or was never handed over). Its actor then belongs to the
        supervisor of the region it is served from. Raises OrderHeld when it keeps the order for now."""
        try:
            state: ConversationState = self._actor(conversation_id).ask(self._order_of(worker), timeout=ORDER_ASK_TIMEOUT)
        except (Rejected, ConversationNotFound):
            return None  # ended, or not handed over yet (its transfer takes the order itself)
        except (OwnedElsewhere, LeaseLost):
            return None  # another node serves it, and gives it the order
        except pykka.Timeout:
            raise OrderHeld(conversation_id) from None  # busy with a slow call: asked again next pass
        if state.phase in ("ended", "returned") or state.target is None or state.worker_id != worker.worker_id:
            return None
        if state.failover_order < worker.failover_order:
            raise OrderHeld(conversation_id)
        self._rehome(conversation_id, _key_of(state.target))
        return _switch_for(self.store, conversation_id, worker.failover_order, near_seq=state.version)

    def _order_of(self, worker: WorkerState) -> SwitchRegion:
        """The worker's failover order in force, as its conversations take it."""
        assert worker.config is not None
        return SwitchRegion(
            at=self._clock(), target=connect_target(worker.config), order=worker.failover_order, mode=worker.failover_mode
        )

    def conversations_of(self, worker_id: str) -> list[str]:
        """The worker's conversations that have not ended."""
        live = set(self.live())
        with self._lock:
            # Every conversation noted is in the log already (noted once its transfer is durable).
            for ended in [cid for cid in self._worker_of if cid not in live]:
                del self._worker_of[ended]
            return [cid for cid, worker in self._worker_of.items() if worker == worker_id]

    def handle(self, conversation_id: str, command: Command) -> ConversationState:
        """A bot's command to a conversation; the returned state holds its events, durable. Raises
        Rejected, or OwnedElsewhere in a cluster when another node serves the conversation.

        An actor found running may stop before it takes the command (its chat has just ended: the API's
        fuzzing saw a second leave answered 500 so); it is then asked once more, and the supervisor,
        finding it stopped, starts one from the log, which answers or rejects."""
        try:
            try:
                return self._actor(conversation_id).ask(command, timeout=ASK_TIMEOUT)
            except pykka.ActorDeadError:
                return self._actor(conversation_id).ask(command, timeout=ASK_TIMEOUT)
        except LeaseLost:
            assert self.cluster is not None  # only fenced appends raise it (and the actor told the node)
            raise self.cluster.elsewhere(conversation_id) from None

    # -- the cluster's calls (cluster.Conversations) --

    def lease_lost(self, conversation_id: str) -> None:
        """Another node has taken the conversation: its actor stops here (nothing more is written here:
        its appends are fenced), and failover orders are another node's to give it."""
        with self._lock:
            self._worker_of.pop(conversation_id, None)
        self._stop_actor(conversation_id)

    def _stop_actor(self, conversation_id: str) -> None:
        """Stop the conversation's actor here, if one runs: also before this node takes a lease, as an
        actor of an earlier lease of ours would append in vain."""
        with self._lock:
            key = self._region_of.get(conversation_id)
            supervisor = self._regions.get(key) if key else None
        ref = supervisor.release(conversation_id) if supervisor is not None else None
        if ref is not None:
            ref.stop(block=False)

    def take_over(self, conversation_id: str) -> None:
        """This node now holds the lease of a conversation another node served: resume it from its log
        as recovery does (timers re-armed, the chat reconnected with the stored participant token, the
        gap filled from the transcript, the unfinished effects redone)."""
        self._stop_actor(conversation_id)
        state = load_conversation(self.store, conversation_id)
        if state.target is not None and state.worker_id is not None:
            self._resume(state)

    def version(self, conversation_id: str) -> int:
        return self.store.stream_version(conversation_stream(conversation_id))

    def revive(self, conversation_id: str) -> None:
        """Start the conversation's actor again from its log if none runs here and it has not ended (in a
        cluster: only if the lease table still gives it to this node; one handed back has its lease let
        go). So a conversation whose actor stopped unfinished goes on with what it had accepted (a bot's
        message not yet at Connect, an agent's line not yet recorded) without waiting for the bot's next
        call or a timer, which may never come: after its actor fell (`_fell`), and after a cluster pass
        found it held here with no actor (`revive_idle`)."""
        if self._stopping.is_set() or self.running_actor(conversation_id) is not None:
            return
        try:
            state = load_conversation(self.store, conversation_id)
            if state.target is None:
                return
            if state.phase == "returned":
                # It fell as it handed back, before it could let its lease go: nothing renews it now.
                if self.cluster is not None:
                    self.cluster.let_go(conversation_id)
                return
            if self.cluster is not None and not self.cluster.still_holds(conversation_id):
                return  # taken meanwhile (a fall comes when leases move): the node that took it resumed it
            self._actor(conversation_id)
        except OwnedElsewhere:
            return  # another node serves it (and resumed it when it took its lease)
        except Exception:  # noqa: BLE001 - the store or the lease table unreachable: later, as after a fall
            log.warning("conversation %s: its actor not started again; trying later", conversation_id, exc_info=True)
            self._fell(conversation_id)
            return
        log.warning("conversation %s: its actor started again from its stream", conversation_id)

    def revive_idle(self, held: list[str]) -> None:
        """A cluster pass's safety net, for the live conversations whose leases this node holds: those
        found with no actor here at two passes in a row are started again (`revive`). A lease held with
        no actor would keep the conversation from every node until the bot's next call: a takeover whose
        start failed, a recovery that stopped half way. Two passes, because an actor may be between two
        lives for a moment (a claim stops the old one before it starts the new one)."""
        if not (self.recovered or self.recovery_failed):
            return  # recovery is starting them
        idle = {conversation_id for conversation_id in held if self.running_actor(conversation_id) is None}
        for conversation_id in idle & self._idle_before:
            log.warning("conversation %s: held here with no actor; started again", conversation_id)
            self._fell(conversation_id)
        self._idle_before = idle

    def _fell(self, conversation_id: str) -> None:
        """A conversation's actor stopped unfinished: `revive` it after the backoff of its falls in a row,
        on the actors' pool (the wait's own thread must not block). One revive at a time per
        conversation: a fall, a pass or a failed revive while one waits adds none."""
        with self._lock:
            if self._stopping.is_set() or conversation_id in self._reviving:
                return
            self._reviving.add(conversation_id)
        delay = self._falls.delay(conversation_id)
        LATER.call_later(delay, lambda: DEFAULT_POOL.submit(lambda: self._revive_task(conversation_id)))

    def _revive_task(self, conversation_id: str) -> bool:
        with self._lock:
            self._reviving.discard(conversation_id)
        self.revive(conversation_id)
        return False  # done: the pool does not run it again

    def running_actor(self, conversation_id: str) -> pykka.ActorRef | None:
        """The conversation's actor if one is running, found without reading the store or starting one
        (None: `handle` it, which may do both)."""
        with self._lock:  # as `_rehome` moves an actor between supervisors
            key = self._region_of.get(conversation_id)
            supervisor = self._regions.get(key) if key else None
            return None if supervisor is None else supervisor.running_actor(conversation_id)

    def state(self, conversation_id: str) -> ConversationState:
        ref = self.running_actor(conversation_id)
        if ref is not None:
            return get_state(ref, ASK_TIMEOUT)
        state = load_conversation(self.store, conversation_id)
        if state.version == 0:
            raise ConversationNotFound(conversation_id)
        return state

    def queue_metrics(self, worker_id: str) -> QueueReading:
        """The worker's queue at Connect, as of at most the TTL ago; raises UnknownWorker, NoQueue or
        QueueMetricsUnavailable. Disabled workers are read too: their queues are real."""
        return self._queues.read(worker_id, queue_target(self.workers.get(worker_id)))

    def supervisor(self, region: str) -> RegionSupervisor:
        """The region's supervisor, when conversations there use one secret (KeyError if none or several:
        `supervisor_of` a conversation then)."""
        with self._lock:
            found = [supervisor for (where, _), supervisor in self._regions.items() if where == region]
        if len(found) != 1:
            raise KeyError(f"{len(found)} supervisors in {region}")
        return found[0]

    def supervisor_of(self, conversation_id: str) -> RegionSupervisor:
        """The supervisor of the conversation's region and secret (KeyError if it was never routed)."""
        with self._lock:
            return self._regions[self._region_of[conversation_id]]

    def supervisors(self) -> list[RegionSupervisor]:
        """Every region supervisor in use, one per (region, secret), in the order they were created."""
        with self._lock:
            return list(self._regions.values())

    def live(self) -> list[str]:
        return live_conversations(self.store)

    def _actor(self, conversation_id: str):  # -> pykka.ActorRef
        """The conversation's actor here, started if need be. In a cluster, only while this node holds
        its lease (taken now if no one holds it; an ended one needs none); else OwnedElsewhere."""
        with self._lock:
            key = self._region_of.get(conversation_id)
        state = None
        claim = self.cluster is not None and self.cluster.fence(conversation_id) is None
        if key is None or claim:
            state = load_conversation(self.store, conversation_id)
            if state.target is None:
                raise ConversationNotFound(conversation_id)
            key = key or _key_of(state.target)
            if claim and state.phase != "returned":
                assert self.cluster is not None
                self.cluster.claim(conversation_id)
                self._stop_actor(conversation_id)
        return self._region(key, conversation_id).actor(conversation_id, state)

    def _home_of(self, conversation_id: str, target: ConnectTarget) -> _Key:
        """Where a transfer of `conversation_id` to `target` is routed: to `target`'s region, unless it is
        a live conversation recovery has not routed yet, which stays where its log says it is served."""
        with self._lock:
            routed = conversation_id in self._region_of
        if not routed and not self.recovered:
            earlier = load_conversation(self.store, conversation_id)
            if earlier.target is not None:
                return _key_of(earlier.target)
        return _key_of(target)

    def _note_worker(self, conversation_id: str, worker_id: str) -> None:
        with self._lock:
            self._worker_of[conversation_id] = worker_id

    def _rehome(self, conversation_id: str, key: _Key) -> None:
        """Hand a conversation's running actor to the supervisor of the region it is now served from."""
        new = self._supervisor_in(key)  # made outside the lock: a region's clients take a while
        with self._lock:
            # Under the lock, as `running_actor` looks: between the two the actor would be in neither
            # supervisor, and a revive or a call would start a second one.
            old = self._region_of.get(conversation_id)
            self._region_of[conversation_id] = key
            if old is None or old == key:
                return
            ref = self._regions[old].release(conversation_id)
            if ref is not None:
                new.adopt(conversation_id, ref)

    def _clients_for(self, target: ConnectTarget) -> RegionClients:
        return self._supervisor_in(_key_of(target)).clients

    def _region(self, key: _Key, conversation_id: str) -> RegionSupervisor:
        """The supervisor a conversation is routed to: the one it already has, else `key`'s (so a second
        transfer of a live id, even to another worker's region, reaches the conversation's own actor)."""
        with self._lock:
            key = self._region_of.setdefault(conversation_id, key)
        return self._supervisor_in(key)

    def _supervisor_in(self, key: _Key) -> RegionSupervisor:
        """The supervisor of a region and secret, created on first use. Its clients assume no role
        yet: that is done at their first call, on the conversation's thread, where a failure becomes
        the conversation's hand-back (service/serve_config.py, roles/)."""
        with self._lock:
            supervisor = self._regions.get(key)
        if supervisor is not None:
            return supervisor
        # Made outside the lock (a region's clients take about half a second), so that recovery and the
        # bots' calls for regions already served are not held up; once per key (single flight): a burst
        # of first transfers each making its own clients left hundreds of MB behind (boto3 clients).
        region, secret = key
        clients = self._clients_made.get(key, lambda: self._region_clients(region, secret)).value
        with self._lock:
            supervisor = self._regions.get(key)
            if supervisor is None:
                clients.health.listen(functools.partial(self._observer.connect_call, region))
                supervisor = RegionSupervisor(
                    clients,
                    self.store,
                    clients_for=self._clients_for,
                    secret=secret,
                    schedule_timer=self.timers.schedule,
                    cancel_timer=self.timers.cancel,
                    clock=self._clock,
                    socket_factory=self._socket_factory,
                    tools=self._tools,
                    background=self._leave,
                    observer=self._observer,
                    fence_of=self.cluster.fence if self.cluster is not None else lambda conversation_id: None,
                    on_returned=self.cluster.let_go if self.cluster is not None else lambda conversation_id: None,
                    on_lease_lost=self.cluster.lost if self.cluster is not None else lambda conversation_id, token: None,
                    on_fell=self._fell,
                )
                self._regions[key] = supervisor
            return supervisor

    def _leave(self, leave: Callable[[], None]) -> None:
        """Run a conversation's leave of a chat a failover move left behind on the chat-leave pool, unless
        the service stops first. Nothing waits for a leave: a stopped service's process exits while one
        is under way (its region may hang it for the participant calls' timeout, tried again), and one
        not done is done at the next start, as its intent is in the log without its done (ChatLeft),
        with the same client tokens."""

        def task() -> bool:
            if not self._stopping.is_set():
                leave()
            return False  # done: the pool does not run it again

        self._leaving.submit(task)

    def _timer_due(self, conversation_id: str, timer_id: str, now: float) -> None:
        try:
            tell(self._actor(conversation_id), TimerDue(at=now, timer_id=timer_id))
        except ConversationNotFound:
            log.warning("timer %s for an unknown conversation", timer_id)
        except OwnedElsewhere:
            pass  # another node serves it now and armed its timers when it resumed it


_NO_FOLD: Future[LiveFold | None] = Future()
_NO_FOLD.set_result(None)


def _key_of(target: ConnectTarget) -> _Key:
    return (target.region, target.secret)


def _switch_for(store: EventStore, conversation_id: str, order: int, near_seq: int) -> FailoverSwitched | None:
    """The conversation's FailoverSwitched for `order`, read back (the actor answers with its state):
    among the few events up to `near_seq` when it was just written, else (taken before a restart)
    anywhere in the stream."""
    stream = conversation_stream(conversation_id)
    for events in (store.read_stream(stream, after_seq=max(0, near_seq - 4), until_seq=near_seq), store.read_stream(stream)):
        for stored in reversed(events):
            event = decode(stored.data)
            if isinstance(event, FailoverSwitched) and event.order == order:
                return event
    return None


__all__ = ["ConversationNotFound", "UnknownWorker", "WorkerDisabled", "WorkerService", "local_regions"]
