"""The worker service: what the bots' HTTP API calls.

It resolves the worker, routes each conversation to the supervisor of its
region and secret (one per Connect region and cross-account role in use,
created on first use, so workers whose `Secret`s differ never share clients),
runs the timer service, on start recovers every conversation that has not
ended, and reads workers' queues through the same clients
(service/queue_metrics.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from actors.conversation import get_state, tell
from actors.region import RegionSupervisor
from actors.worker_tools import RunConnector, WorkerTools
from actors.timers import TimerService
from connect_client import ChatSocket, RegionClients, static_session
from events import ConversationState, armed_timers
from events.commands import Command, TimerDue, Transfer
from events.conversation_events import ConnectTarget
from events.worker import auto_disconnect_rules, connect_target, short_link_rule, slash_command_rules, translation_rule
from events.worker_queue import queue_target
from service.queue_metrics import DEFAULT_QUEUE_METRICS_TTL, QueueMetricsReader, QueueReading
from service.short_link_key import short_link_key
from store import EventStore
from store.content import ContentRegistry
from store.conversations import live_conversations, load_conversation
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
    ) -> None:
        """`run_connector`: how slash commands' `executeApi` actions call a connector (connectors/).
        `vault`: where vault references are resolved; None, the local vault in the store's file."""
        self.store = store
        self.workers = WorkerRegistry(store)
        self._region_clients = region_clients
        self._clock = clock
        self._socket_factory = socket_factory
        self._regions: dict[_Key, RegionSupervisor] = {}
        self._region_of: dict[str, _Key] = {}
        self._lock = threading.Lock()
        self.timers = TimerService(self._timer_due, clock)
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

    def start(self) -> WorkerService:
        """Start the timer service and recover every conversation that has not ended."""
        self.timers.start()
        self.recover()
        return self

    def stop(self) -> None:
        self.timers.stop()
        with self._lock:
            regions = list(self._regions.values())
        for region in regions:
            region.stop()

    def recover(self) -> int:
        """Recover every live conversation: first every armed timer is scheduled, so that each fires at
        its due time however long starting thousands of actors takes (a timer due meanwhile starts its
        conversation's actor itself); then each conversation gets its actor, which reconnects and
        redoes its unfinished effects."""
        states = [load_conversation(self.store, conversation_id) for conversation_id in live_conversations(self.store)]
        states = [state for state in states if state.target is not None]
        for state in states:
            for timer in armed_timers(state):
                self.timers.schedule(state.conversation_id, timer.timer_id, timer.due_at)
        for state in states:
            assert state.target is not None
            self._region(_key_of(state.target), state.conversation_id).actor(state.conversation_id, state)
        if states:
            log.info("recovered %d live conversations", len(states))
        return len(states)

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
        """Hand a conversation to a worker; raises UnknownWorker, WorkerDisabled or Rejected."""
        config = self.workers.get(worker_id)
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
        )
        ref = self._region(_key_of(target), conversation_id).actor(conversation_id)
        return ref.ask(command, timeout=ASK_TIMEOUT)

    def handle(self, conversation_id: str, command: Command) -> ConversationState:
        """A bot's command to a conversation; the returned state holds its events, durable. Raises Rejected."""
        return self._actor(conversation_id).ask(command, timeout=ASK_TIMEOUT)

    def state(self, conversation_id: str) -> ConversationState:
        with self._lock:
            key = self._region_of.get(conversation_id)
            supervisor = self._regions.get(key) if key else None
        if supervisor is not None:
            ref = supervisor.running_actor(conversation_id)
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
        with self._lock:
            key = self._region_of.get(conversation_id)
        state = None
        if key is None:
            state = load_conversation(self.store, conversation_id)
            if state.target is None:
                raise ConversationNotFound(conversation_id)
            key = _key_of(state.target)
        return self._region(key, conversation_id).actor(conversation_id, state)

    def _region(self, key: _Key, conversation_id: str) -> RegionSupervisor:
        with self._lock:
            self._region_of[conversation_id] = key
        return self._supervisor_in(key)

    def _supervisor_in(self, key: _Key) -> RegionSupervisor:
        """The supervisor of a region and secret, created on first use. Its clients assume no role
        yet: that is done at their first call, on the conversation's thread, where a failure becomes
        the conversation's hand-back (service/serve_config.py, roles/)."""
        with self._lock:
            supervisor = self._regions.get(key)
            if supervisor is None:
                region, secret = key
                supervisor = RegionSupervisor(
                    self._region_clients(region, secret),
                    self.store,
                    secret=secret,
                    schedule_timer=self.timers.schedule,
                    clock=self._clock,
                    socket_factory=self._socket_factory,
                    tools=self._tools,
                )
                self._regions[key] = supervisor
            return supervisor

    def _timer_due(self, conversation_id: str, timer_id: str, now: float) -> None:
        try:
            tell(self._actor(conversation_id), TimerDue(at=now, timer_id=timer_id))
        except ConversationNotFound:
            log.warning("timer %s for an unknown conversation", timer_id)


def _key_of(target: ConnectTarget) -> _Key:
    return (target.region, target.secret)


__all__ = ["ConversationNotFound", "UnknownWorker", "WorkerDisabled", "WorkerService", "local_regions"]
