"""A region supervisor: the region's Connect clients and the conversation actors there.

A conversation actor that died (an unexpected exception in its handler stops
a pykka actor) is started again from its stream with `load_conversation`, the
same fold `run.py replay` uses: by the service after a backoff (`on_fell`), or
before that by the first call or timer that asks for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pykka

from actors.conversation import ConversationActor, resume
from actors.observer import Observer
from actors.worker_tools import WorkerTools
from connect_client import ChatSocket, RegionClients
from events import ConversationState
from events.conversation_events import ConnectTarget
from store import EventStore
from store.conversations import conversation_stream, load_conversation
from store.leases import Lease

log = logging.getLogger(__name__)


class SupervisorStopped(Exception):
    """An actor asked of a supervisor that has stopped (a revive or a late call racing the service's stop)."""


class RegionSupervisor:
    """`clients_for(target)` gives any target's clients: a conversation moved by a failover order
    calls the new region, and leaves its old chat through the old region's clients."""

    def __init__(
        self,
        clients: RegionClients,
        store: EventStore,
        *,
        clients_for: Callable[[ConnectTarget], RegionClients],
        secret: str | None = None,
        schedule_timer: Callable[[str, str, float], None],
        cancel_timer: Callable[[str, str], None],
        clock: Callable[[], float] = time.time,
        socket_factory: Callable[..., ChatSocket] = ChatSocket,
        tools: WorkerTools | None = None,
        background: Callable[[Callable[[], None]], None] | None = None,
        observer: Observer | None = None,
        fence_of: Callable[[str], Lease | None] = lambda conversation_id: None,
        on_returned: Callable[[str], None] = lambda conversation_id: None,
        on_lease_lost: Callable[[str, int], None] = lambda conversation_id, token: None,
        on_fell: Callable[[str], None] = lambda conversation_id: None,
    ) -> None:
        """`background(call)`: runs `call` on the service's pool, for what must not hold a conversation up
        (leaving a chat a failover move left behind). `observer`: what its actors report, for the service's metrics.
        `fence_of(conversation_id)`: the lease its actor's appends carry, when nodes share the log
        (None: not fenced); `on_returned(conversation_id)`: told when a conversation's actor stops
        handed back (the node lets its lease go); `on_lease_lost(conversation_id, token)`: told when an
        actor's append found its lease taken (the node forgets it); `on_fell(conversation_id)`: told when
        an actor stopped with its conversation unfinished (the service starts one again)."""
        self.clients = clients
        self._clients_for = clients_for
        self.secret = secret  # the vault reference of the role its clients sign with (None: the service's own)
        self._store = store
        self._schedule_timer = schedule_timer
        self._cancel_timer = cancel_timer
        self._clock = clock
        self._socket_factory = socket_factory
        self._tools = tools
        self._background = background
        self._observer = observer
        self._fence_of = fence_of
        self._on_returned = on_returned
        self._on_lease_lost = on_lease_lost
        self._on_fell = on_fell
        self._actors: dict[str, pykka.ActorRef] = {}
        self._lock = threading.Lock()
        self._stopped = False  # once stopped, no actor starts: one would outlive the service

    def actor(self, conversation_id: str, state: ConversationState | None = None) -> pykka.ActorRef:
        """The conversation's live actor, started (from `state`, else from its stream) if it has none.
        A `state` read before another actor of the conversation appended to its stream and stopped (a
        call started one while recovery was under way) is stale: the stream is folded again. Only a
        conversation's actor appends to its stream, and none runs meanwhile."""
        with self._lock:
            if self._stopped:
                raise SupervisorStopped(f"conversation {conversation_id!r}: the service is stopping")
            ref = self._actors.get(conversation_id)
            if ref is not None and ref.is_alive():
                return ref
            restarting = ref is not None
            if state is None or self._store.stream_version(conversation_stream(conversation_id)) != state.version:
                state = load_conversation(self._store, conversation_id)
            ref = ConversationActor.start(
                state,
                self._store,
                self._clients_for,
                schedule_timer=self._schedule_timer,
                cancel_timer=self._cancel_timer,
                clock=self._clock,
                socket_factory=self._socket_factory,
                tools=self._tools,
                on_stopped=self._forget,
                background=self._background,
                observer=self._observer,
                fence=self._fence_of(conversation_id),
                on_returned=self._on_returned,
                on_lease_lost=self._on_lease_lost,
                on_fell=self._on_fell,
            )
            self._actors[conversation_id] = ref
        if restarting or state.version > 0:
            if restarting:
                log.warning("conversation %s: actor restarted from its stream", conversation_id)
            resume(ref)
        return ref

    def _forget(self, conversation_id: str, ref: pykka.ActorRef) -> bool:
        """A stopping actor lets go of its place; whether it was the conversation's latest (or none
        newer has started: a failover move's adopter forgets it too)."""
        with self._lock:
            current = self._actors.get(conversation_id)
            if current is ref:
                del self._actors[conversation_id]
            return current is None or current is ref

    def running_actor(self, conversation_id: str) -> pykka.ActorRef | None:
        """The conversation's actor if it is alive, without starting one."""
        with self._lock:
            ref = self._actors.get(conversation_id)
        return ref if ref is not None and ref.is_alive() else None

    def live_actors(self) -> int:
        """How many of its conversations have a running actor now."""
        with self._lock:
            self._forget_stopped()
            return len(self._actors)

    def release(self, conversation_id: str) -> pykka.ActorRef | None:
        """Give up the conversation's actor (a failover move hands it to another region's supervisor)."""
        with self._lock:
            return self._actors.pop(conversation_id, None)

    def adopt(self, conversation_id: str, ref: pykka.ActorRef) -> None:
        """Take a running actor over from another region's supervisor."""
        with self._lock:
            self._forget_stopped()  # an adopted actor tells the supervisor that started it when it stops
            self._actors.setdefault(conversation_id, ref)

    def _forget_stopped(self) -> None:
        for conversation_id in [key for key, ref in self._actors.items() if not ref.is_alive()]:
            del self._actors[conversation_id]

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            refs = list(self._actors.values())
            self._actors.clear()
        stopping = [ref.stop(block=False) for ref in refs]
        for future in stopping:
            future.get(timeout=5)
