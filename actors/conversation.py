"""One conversation's actor: decide, persist, evolve, act.

Every message is handled on the actor's thread (while it has messages, one of the
actors' pool, actors/pooled.py), one at a time:

1. a command goes through the pure `decide` (a `Rejected` goes back to the
   caller of `ask`, nothing is written);
2. the new events are appended to the conversation's stream with the state's
   version, and the append returns only once they are durable;
3. the state is folded forward with `evolve`;
4. the `pending_effects` are performed at Connect through the region's
   clients, and each outcome comes back as the matching command (step 1).

The participant socket's callbacks run on the socket hub's thread and only `tell`
this actor; chat items become commands here, never there.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import pykka
from structlog.contextvars import bound_contextvars

from actors.denials import denial_detail, is_denial
from actors.observer import Observer
from actors.later import LATER, Call
from actors.pooled import PooledActor
from actors.worker_tools import ToolError, WorkerTools
from connect_client import (
    AccessDenied,
    Backoff,
    ChatItem,
    ChatSocket,
    ChatStart,
    ConnectError,
    ContentTooLong,
    ItemKind,
    Participant,
    PermanentError,
    RegionClients,
    RetryableError,
    SocketConnected,
    SocketCredentials,
    SocketReconnecting,
    SocketState,
    SocketStopped,
    StopReason,
)
from events import (
    ConversationState,
    Rejected,
    armed_timers,
    decide,
    decode,
    egress_plan,
    encode,
    event_type,
    evolve,
    pending_effects,
    sent_by_the_worker,
)
from events.commands import (
    ChatEndedReceived,
    ChatFailed,
    ChatLeaveDone,
    ChatStartFailure,
    ChatStartSucceeded,
    Command,
    ConnectionEstablished,
    ConnectionTokenReceived,
    ConnectMessageReceived,
    ContextUpdateAcknowledged,
    DisconnectAcknowledged,
    ParticipantJoinedReceived,
    ParticipantLeftReceived,
    SlashActionFailure,
    SlashActionStarting,
    SlashActionSucceeded,
    SlashContentFound,
    SwitchRegion,
    TimerDue,
    Transfer,
    TypingAcknowledged,
    TypingEventReceived,
    UserMessageAcknowledged,
    UserMessageRefused,
    UserMessageTooLong,
    UserMessageTranslationDone,
    UserSays,
)
from events.carried_transcript import ATTRIBUTES_LIMIT, attributes_size, carried_attributes
from events.conversation_events import (
    AgentMessageReceived,
    ChatLeaveRequested,
    ConnectTarget,
    ConversationEvent,
    ErrorDetail,
    ReturnedToBot,
    ShortLinkRule,
    Transferred,
    TranslationRule,
    UserMessageRequested,
    UserMessageTranslationRequested,
)
from events.effects import (
    AnyEffect,
    DisconnectParticipant,
    LeaveChat,
    RunSlashAction,
    SendMessage,
    SendTyping,
    StartChat,
    TranslateUserMessage,
    UpdateContactAttributes,
)
from events.links import find_links, with_short_links
from events.message_repeats import SENT_EVENT_TYPES, SentMessage, first_sent, refuse_a_different_repeat
from events.slash_commands import fill_placeholders
from logs import KNOWN_SECRETS
from store import ConcurrencyConflict, EventStore, LeaseLost, NewEvent
from store.content import ContentRegistry
from store.conversations import conversation_stream
from store.leases import Lease

log = logging.getLogger(__name__)

_ROLES = {"AGENT", "CUSTOMER", "SYSTEM", "CUSTOM_BOT", "SUPERVISOR"}
# What the agent of a chat a failover move leaves behind reads before the customer leaves it.
LEFT_BEHIND_NOTICE = (
    "[connect worker] This customer's chat has moved to another region of the contact centre (failover);"
    " they are leaving this chat."
)


@dataclass(frozen=True, slots=True)
class _Item:
    """An item the chat socket heard; one from a socket the actor has closed (the chat a failover
    move left behind) is not taken: that chat's last items come with its leave (`_LeaveDone`)."""

    item: ChatItem
    socket: ChatSocket


@dataclass(frozen=True, slots=True)
class _LeaveDone:
    """The chat a move left behind was left (or not: `error`), off the actor's thread; `items`: what
    was said there since the last item recorded."""

    effect_id: int
    items: list[ChatItem]
    error: ErrorDetail | None


@dataclass(frozen=True, slots=True)
class _Socket:
    state: SocketState
    socket: ChatSocket


@dataclass(frozen=True, slots=True)
class _RetryEffects:
    pass


@dataclass(frozen=True, slots=True)
class _Perform:
    """Perform the pending effects: sent to itself so that an `ask` is answered once the events are durable,
    without waiting for Connect."""


@dataclass(frozen=True, slots=True)
class _Report:
    """A command told, not asked (a timer, a late report): nobody waits for a rejection."""

    command: Command


@dataclass(frozen=True, slots=True)
class _GetState:
    pass


@dataclass(frozen=True, slots=True)
class _Resume:
    pass


@dataclass(frozen=True, slots=True)
class _ReleaseOrder:
    """The held failover order waits no longer for the message in doubt (its region may be down)."""


# How long a failover move waits, after a restart, for the message that may have been on its way to
# the old chat when the service stopped: sent again there with its client token, Connect keeps it
# once; moved unconfirmed, the new chat could get it a second time.
HOLD_ORDER_SECONDS = 10.0
# How an actor waits before retrying an effect Connect refused retryably. One for all actors: a
# `Backoff` of its own seeded a `random.Random` from the system's entropy for each actor a recovery started.
RETRY_BACKOFF = Backoff(first=0.5, cap=30.0)


class ConversationActor(PooledActor):
    """Owns one conversation's state, its chat socket and its connection token.

    `clients_for(target)` gives the Connect clients of a target's region and role (a failover move
    changes the target); `schedule_timer(conversation_id, timer_id, due_at)` and
    `cancel_timer(conversation_id, timer_id)` are the timer service's doors; `socket_factory` builds the
    ChatSocket (tests may shorten timings).
    """

    def __init__(
        self,
        state: ConversationState,
        store: EventStore,
        clients_for: Callable[[ConnectTarget], RegionClients],
        *,
        schedule_timer: Callable[[str, str, float], None],
        cancel_timer: Callable[[str, str], None],
        clock: Callable[[], float] = time.time,
        socket_factory: Callable[..., ChatSocket] = ChatSocket,
        retry_backoff: Backoff | None = None,
        tools: WorkerTools | None = None,
        on_stopped: Callable[[str, pykka.ActorRef], bool] = lambda conversation_id, ref: True,
        observer: Observer | None = None,
        background: Callable[[Callable[[], None]], None] | None = None,
        fence: Lease | None = None,
        on_returned: Callable[[str], None] = lambda conversation_id: None,
        on_lease_lost: Callable[[str, int], None] = lambda conversation_id, token: None,
        on_fell: Callable[[str], None] = lambda conversation_id: None,
    ) -> None:
        """`on_stopped(conversation_id, ref)` is called as the actor stops (handed back, or shut down):
        whether `ref` was still the conversation's latest actor.
        `background(call)` runs `call` off the actor's thread, for what must not hold the conversation up:
        leaving the chat a failover move left behind, whose region may be down (default: a daemon thread
        of its own each time). Nothing waits for it: the leave's done is recorded if the actor is still
        there to take it, and one not done is redone from the log. `fence`: the lease
        every append carries when several nodes share the log (cluster/): once another node has taken
        it, an append raises LeaseLost, writes nothing, this actor stops and `on_lease_lost(conversation_id,
        token)` is told. `on_returned(conversation_id)` is called as it stops once the conversation has
        been handed back. `on_fell(conversation_id)` is called once the actor has stopped perhaps
        unfinished: an exception while it handled a report (pykka stops an actor so), or its stream went
        on without it; the service starts one again from the stream if the conversation is live and its
        own to serve (`WorkerService.revive`, service/falls.py)."""
        super().__init__()
        self.state = state
        self._store = store
        self._clients_for = clients_for
        self._schedule_timer = schedule_timer
        self._cancel_timer = cancel_timer
        self._clock = clock
        self._socket_factory = socket_factory
        self._on_stopped = on_stopped
        self._fence = fence
        self._on_returned = on_returned
        self._on_lease_lost = on_lease_lost
        self._on_fell = on_fell
        self._fell = False  # stopped behind its stream: on_fell once it has stopped
        self._tools = tools or WorkerTools(ContentRegistry(store))
        self._backoff = retry_backoff or RETRY_BACKOFF
        self._failures = 0
        self._retry_timer: Call | None = None
        self._socket: ChatSocket | None = None
        self._connection_token: str | None = None
        self._in_doubt: int | None = None  # a message perhaps sent to the chat just before a restart
        self._held_order: SwitchRegion | None = None
        self._hold_timer: Call | None = None
        # The service's metrics: its phase from now on, and how long each message took to relay.
        self._observer = observer or Observer()
        self._observer.phase(state.conversation_id, state.phase)
        self._accepted: dict[str, float] = {}  # a bot message being translated: when the API took it
        self._item_at: float | None = None  # the Connect item being taken: its AbsoluteTime
        self._background = background
        self._leaving: set[int] = set()  # LeaveChat effects under way off the actor's thread
        # While the socket is not reading the chat, what Connect records meanwhile is read before a timer
        # decides: a `TimerDue` waits here until the socket has caught up (`_caught_up`). True from the
        # start for an actor started from its log with a chat to read (a restart, or an actor that died;
        # set here, not on `_Resume`: a timer may be told first), and again when a live socket drops
        # (`SocketReconnecting`) until its gap is filled.
        self._catching_up = _has_chat_to_read(state)
        self._held_timers: list[TimerDue] = []

    @property
    def _clients(self) -> RegionClients:
        """The clients of the conversation's target now."""
        assert self.state.target is not None
        return self._clients_for(self.state.target)

    # -- the mailbox ------------------------------------------------------

    def on_start(self) -> None:
        self._hold_secrets()

    def on_receive(self, message: Any) -> Any:
        # Every line logged while the message is handled, here or below, names the conversation and worker.
        worker_id = message.worker_id if isinstance(message, Transfer) else self.state.worker_id
        with bound_contextvars(conversation_id=self.state.conversation_id, worker_id=worker_id):
            try:
                answer = self._receive(message)
                self._release_order_if_settled()
                return answer
            except (LeaseLost, ConcurrencyConflict) as behind:
                if isinstance(behind, LeaseLost):
                    # Another node serves the conversation now (it resumes from the log what this one did
                    # not write).
                    log.warning("conversation %s: its lease is another node's now; it stops here",
                                self.state.conversation_id)
                    self._on_lease_lost(self.state.conversation_id, behind.token)
                else:
                    # Another writer appended to the stream (in a cluster: a node that held the lease
                    # meanwhile, the lease back here before this actor stopped): its state is behind and
                    # every append would fail alike; the next call or report starts one from the stream.
                    log.warning("conversation %s: its stream went on without this actor; it stops here",
                                self.state.conversation_id)
                    self._fell = True
                # Either way this actor goes, and a command asked of it is told so.
                self.stop()
                if isinstance(message, Command):
                    raise
                return None
            finally:
                if self.state.phase == "returned":
                    # Handed back: nothing more can happen, so the actor goes.
                    self.stop()

    def _receive(self, message: Any) -> Any:
        if isinstance(message, SwitchRegion) and self._doubtful():
            return self._hold(message)
        if isinstance(message, Command):
            return self._handle(message)
        if isinstance(message, _Report) and isinstance(message.command, TimerDue) and self._catching_up:
            self._held_timers.append(message.command)
            return None
        if isinstance(message, _Report):
            self._handle_quietly(message.command)
            return None
        if isinstance(message, _GetState):
            return self.state
        if isinstance(message, _Item):
            if message.socket is self._socket and self._take_item(message.item):
                # What an item asks for (a slash command's actions) is done before the next item is read,
                # so that what the agent wrote next reaches the user after it, in the agent's order.
                self._perform()
            return None
        if isinstance(message, _Socket):
            self._socket_changed(message)
            return None
        if isinstance(message, _RetryEffects):
            self._retry_timer = None
            self._perform()
            return None
        if isinstance(message, _Perform):
            self._perform()
            return None
        if isinstance(message, _Resume):
            self._resume()
            return None
        if isinstance(message, _LeaveDone):
            self._left(message)
            return None
        if isinstance(message, _ReleaseOrder):
            self._in_doubt = None
            return None
        raise TypeError(f"a conversation actor does not take {type(message).__name__}")

    def on_stop(self) -> None:
        try:
            self._let_go()
        finally:
            if self._fell:
                self._on_fell(self.state.conversation_id)

    def on_failure(self, exception_type: Any, exception_value: Any, traceback: Any) -> None:
        """A report's handler raised and pykka stopped the actor, without `on_stop`: what it holds is let
        go all the same (its chat socket would go on beside the next actor's), and it is started again."""
        try:
            self._let_go()
        finally:
            self._on_fell(self.state.conversation_id)

    def _let_go(self) -> None:
        """What a stopping actor gives up: its place at the supervisor, its secrets, timers and socket.
        The conversation's phase and secrets, kept by conversation, are let go only if no newer actor of
        it has started meanwhile (pykka marks a failed actor dead before `on_failure`: a call may start
        the next one first)."""
        latest = self._on_stopped(self.state.conversation_id, self.actor_ref)
        if self.state.phase == "returned":
            self._on_returned(self.state.conversation_id)
        if latest:
            self._observer.phase(self.state.conversation_id, None)
            KNOWN_SECRETS.release(self.state.conversation_id)
        for timer in (self._retry_timer, self._hold_timer):
            if timer is not None:
                timer.cancel()
        if self._socket is not None:
            self._socket.close()

    def _take_item(self, item: ChatItem) -> bool:
        """A chat item from Connect, as the command it reports (prepared for the user first, when a
        message); False when it reports nothing."""
        command = _command_for(item, self._clock())
        if isinstance(command, ConnectMessageReceived):
            command = self._prepared_for_the_user(command)
        if command is None:
            return False
        self._item_at = _connect_time(item)
        try:
            self._handle_quietly(command)
        finally:
            self._item_at = None
        return True

    def _handle(self, command: Command) -> ConversationState:
        """Decide, persist, evolve, then act (next in the mailbox); returns the state after the command."""
        new = decide(self.state, command)
        if new:
            self._persist(new)
            self.actor_ref.tell(_Perform())
        elif isinstance(command, UserSays) and command.bot_message_id in self.state.seen_bot_message_ids:
            # Taken by `decide` as a retry (the state keeps only the ids): what the first said is read back.
            refuse_a_different_repeat(command, self._first_sent(command.bot_message_id))
        return self.state

    def _first_sent(self, bot_message_id: str) -> SentMessage | None:
        """What the bot first sent with `bot_message_id`, read from the log (events/message_repeats.py)."""
        stream = conversation_stream(self.state.conversation_id)
        events = (decode(stored.data) for stored in self._store.read_stream(stream) if stored.type in SENT_EVENT_TYPES)
        return first_sent(events, bot_message_id)

    def _handle_quietly(self, command: Command) -> None:
        """A report from Connect: a rejection is the outside world being late, not an error."""
        try:
            self._handle(command)
        except Rejected as rejection:
            log.info("conversation %s: %s ignored (%s)", self.state.conversation_id, type(command).__name__, rejection.code)

    def _persist(self, new: list[ConversationEvent]) -> None:
        closes = any(isinstance(event, ReturnedToBot) for event in new)
        self._store.append(
            conversation_stream(self.state.conversation_id),
            [NewEvent(event_type(event), encode(event)) for event in new],
            expected_version=self.state.version,
            closes_stream=closes,
            fence=self._fence,
        )
        timers_before = {timer.timer_id for timer in armed_timers(self.state)}
        chat_before, phase_before = self.state.chat, self.state.phase
        for event in new:
            self.state = evolve(self.state, event)
        self._observe(new, phase_before)
        self._hold_secrets()
        if chat_before is not None and self.state.chat is None:
            self._chat_left_behind()
        timers_after = {timer.timer_id for timer in armed_timers(self.state)}
        for timer_id in timers_before - timers_after:  # cancelled (or fired: then there is nothing to cancel)
            self._cancel_timer(self.state.conversation_id, timer_id)
        for timer in armed_timers(self.state):
            if timer.timer_id not in timers_before:
                self._schedule_timer(self.state.conversation_id, timer.timer_id, timer.due_at)
        if self.state.chat is not None and self._socket is None and self.state.phase in ("started",):
            self._open_socket(after_id=None)
        if self.state.phase in ("ended", "returned") and self._socket is not None:
            self._socket.close()

    def _hold_secrets(self) -> None:
        """The tokens this conversation holds now, which no log line may show (logs/scrub.py)."""
        chat = self.state.chat
        leaves = [event for event in self.state.pending.values() if isinstance(event, ChatLeaveRequested)]
        KNOWN_SECRETS.hold(
            self.state.conversation_id,
            [
                self._connection_token,
                *((chat.participant_token, chat.connection_token) if chat is not None else ()),
                *(token for leave in leaves for token in (leave.participant_token, leave.connection_token)),
            ],
        )

    def _chat_left_behind(self) -> None:
        """A failover move: the old chat's socket goes (its late news is ignored), and a retry
        waiting on the old region no longer holds up the new chat."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._connection_token = None
        if self._retry_timer is not None:
            self._retry_timer.cancel()
            self._retry_timer = None
        self._failures = 0

    def _observe(self, new: list[ConversationEvent], phase_before: str) -> None:
        """Tell the service's metrics what the events just made durable mean."""
        observer = self._observer
        if self.state.phase != phase_before:
            observer.phase(self.state.conversation_id, self.state.phase)
        for event in new:
            if isinstance(event, AgentMessageReceived) and self._item_at is not None:
                observer.recorded_for_bot(max(0.0, time.time() - self._item_at))
            elif isinstance(event, UserMessageTranslationRequested):
                self._accepted[event.bot_message_id] = event.at
            elif isinstance(event, Transferred):
                observer.transferred()
            elif isinstance(event, ReturnedToBot):
                observer.handed_back(event.session_end_reason)

    def _sent_to_agent(self, effect_id: int) -> None:
        """Connect accepted a piece of a bot's message (not a notice of the worker's own): how long
        since the API accepted the message (after a restart, a translated one's since its translation)."""
        request = self.state.pending.get(effect_id)
        if not isinstance(request, UserMessageRequested) or request.origin != "user" or request.bot_message_id is None:
            return
        bot_message_id = request.bot_message_id
        self._observer.sent_to_agent(max(0.0, self._clock() - self._accepted.get(bot_message_id, request.at)))
        others = (other for seq, other in self.state.pending.items() if seq != effect_id)
        if bot_message_id in self._accepted and all(
            getattr(other, "bot_message_id", None) != bot_message_id for other in others
        ):
            del self._accepted[bot_message_id]  # its last piece

    # -- failover orders after a restart ------------------------------------

    def _doubtful(self) -> bool:
        return self._in_doubt is not None and self._in_doubt in self.state.pending

    def _hold(self, order: SwitchRegion) -> ConversationState:
        """Keep a failover order until the message in doubt is settled in the old chat (or for
        HOLD_ORDER_SECONDS); the state answered has not taken it yet, so the service asks again."""
        if self._held_order is None:
            ref = self.actor_ref
            self._hold_timer = LATER.call_later(HOLD_ORDER_SECONDS, lambda: _tell_if_alive(ref, _ReleaseOrder()))
        self._held_order = order
        return self.state

    def _release_order_if_settled(self) -> None:
        if self._held_order is None or self._doubtful():
            return
        order, self._held_order = self._held_order, None
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        self._handle_quietly(msgspec.structs.replace(order, at=self._clock()))

    # -- recovery ---------------------------------------------------------

    def _resume(self) -> None:
        """After a restart: re-arm timers, reopen the socket, redo the unfinished effects. The first
        message waiting for the chat may have reached Connect just before the stop: a failover move
        waits for it to be settled there (`_hold`)."""
        for timer in armed_timers(self.state):
            self._schedule_timer(self.state.conversation_id, timer.timer_id, timer.due_at)
        if self.state.phase == "connected":
            sends = [effect for effect in pending_effects(self.state) if isinstance(effect, SendMessage)]
            self._in_doubt = sends[0].effect_id if sends else None
        if _has_chat_to_read(self.state):
            # The fill resumes after the last Connect item recorded (GetTranscript's
            # StartPosition), not from the start; decide drops any repeat all the same.
            self._open_socket(after_id=self.state.last_connect_id)
        self._perform()

    # -- effects ----------------------------------------------------------

    def _perform(self) -> None:
        """Perform the pending effects one at a time, in order, until none is left
        or one must wait (no connection yet, or a retry later). Leaving a chat a failover move left
        behind is started first, off the actor's thread, so that neither a new region that fails nor
        an old one that hangs holds the other up."""
        for effect in pending_effects(self.state):
            if isinstance(effect, LeaveChat) and effect.effect_id not in self._leaving:
                self._start_leaving(effect)
        while self._retry_timer is None:
            effects = [effect for effect in pending_effects(self.state) if self._can_run(effect)]
            if not effects:
                return
            effect = effects[0]
            try:
                report = self._run(effect)
                if report is None:
                    continue  # settled while it ran (an action already started before a restart)
            except RetryableError as error:
                self._retry_later(effect, error)
                return
            except PermanentError as error:
                report = _failure(effect, error, self._detail(error), self._clock())
                if report is None:
                    log.warning("conversation %s: %s failed for good: %s", self.state.conversation_id, type(effect).__name__, error)
                    return
            self._failures = 0
            try:
                self._handle_report(report)
            except Rejected as rejection:
                log.info("conversation %s: report %s refused (%s)", self.state.conversation_id, type(report).__name__, rejection.code)
                return

    def _handle_report(self, report: Command) -> None:
        new = decide(self.state, report)
        if new:
            self._persist(new)

    def _can_run(self, effect: AnyEffect) -> bool:
        if isinstance(effect, LeaveChat):
            return False  # under way off the actor's thread (`_start_leaving`)
        if isinstance(effect, (StartChat, UpdateContactAttributes, RunSlashAction, TranslateUserMessage)):
            return True
        return self._connection_token is not None

    def _run(self, effect: AnyEffect) -> Command | None:
        now = self._clock
        if isinstance(effect, RunSlashAction):
            return self._run_slash_action(effect)
        if isinstance(effect, TranslateUserMessage):
            try:
                translated = self._translate(effect.rule, effect.text, effect.client_token)
            except ToolError as error:
                return UserMessageTranslationDone(at=now(), effect_id=effect.effect_id, error=_tool_error(error))
            return UserMessageTranslationDone(at=now(), effect_id=effect.effect_id, translated=translated)
        participant = self._clients.participant
        if isinstance(effect, StartChat):
            attributes = _attributes(effect.context)
            if effect.transcript_until is not None:
                attributes |= self._carried(effect.transcript_until, room=ATTRIBUTES_LIMIT - attributes_size(attributes))
            started = self._clients_for(effect.target).contacts.start_chat(
                ChatStart(
                    instance_id=effect.target.instance_id,
                    contact_flow_id=effect.target.contact_flow_id,
                    display_name=effect.display_name,
                    client_token=effect.client_token,
                    attributes=attributes,
                )
            )
            return ChatStartSucceeded(
                at=now(),
                effect_id=effect.effect_id,
                contact_id=started.contact_id,
                participant_id=started.participant_id,
                participant_token=started.participant_token,
            )
        if isinstance(effect, UpdateContactAttributes):
            assert self.state.target is not None and self.state.chat is not None
            try:
                self._clients.contacts.update_attributes(
                    self.state.target.instance_id, self.state.chat.contact_id, _attributes(effect.context)
                )
            except PermanentError as error:
                return ContextUpdateAcknowledged(at=now(), effect_id=effect.effect_id, error=self._detail(error))
            return ContextUpdateAcknowledged(at=now(), effect_id=effect.effect_id)
        token = self._connection_token
        assert token is not None
        if isinstance(effect, SendMessage):
            sent = participant.send_message(token, effect.text, effect.client_token, effect.content_type)
            self._sent_to_agent(effect.effect_id)
            return UserMessageAcknowledged(at=now(), effect_id=effect.effect_id, connect_message_id=sent.id)
        if isinstance(effect, SendTyping):
            participant.send_event(token, effect.client_token)
            return TypingAcknowledged(at=now(), effect_id=effect.effect_id)
        if isinstance(effect, DisconnectParticipant):
            return self._disconnect(effect, token)
        raise TypeError(f"unknown effect {type(effect).__name__}")

    def _disconnect(self, effect: DisconnectParticipant, token: str) -> DisconnectAcknowledged:
        """Leave the chat, then take what Connect recorded before it ended and the socket had not yet
        told: the end is decided from the acknowledgement, after which the socket's late items would
        be dropped (the actor's mailbox may hold them behind this effect, or the socket may not have
        read them yet). Refused for good, the chat is over at Connect anyway: its last items are read
        all the same. The read is one try with the connection token, which still reads an ended chat."""
        try:
            self._clients.participant.disconnect(token, effect.client_token)
        except PermanentError as error:
            log.info("conversation %s: DisconnectParticipant refused (%s): the chat is over", self.state.conversation_id, error.code)
        try:
            items = self._clients.participant.transcript_after(token, self.state.last_connect_id)
        except ConnectError as error:
            log.warning("conversation %s: the chat's last items could not be read after leaving it: %s",
                        self.state.conversation_id, error.code)
            items = []
        self._take_said_and_done(items)
        return DisconnectAcknowledged(at=self._clock(), effect_id=effect.effect_id)

    def _carried(self, until_seq: int, room: int) -> dict[str, str]:
        """The conversation so far, from its log up to the move, for the new chat's attributes."""
        stream = conversation_stream(self.state.conversation_id)
        events = [(stored.seq, decode(stored.data)) for stored in self._store.read_stream(stream, until_seq=until_seq)]
        return carried_attributes(events, room=room)

    def _start_leaving(self, effect: LeaveChat) -> None:
        self._leaving.add(effect.effect_id)
        clients, ref, conversation_id = self._clients_for(effect.target), self.actor_ref, self.state.conversation_id

        def leave() -> None:
            items, error = leave_chat(clients.participant, effect, conversation_id)
            _tell_if_alive(ref, _LeaveDone(effect.effect_id, items, error))

        if self._background is not None:
            self._background(leave)
        else:
            threading.Thread(target=leave, name=f"chat-leave-{conversation_id}", daemon=True).start()

    def _left(self, done: _LeaveDone) -> None:
        """What was said and done in the chat left behind goes to the bot (its messages, the agents
        joining or leaving: not its end, which is not this conversation's), then the leave is recorded."""
        self._leaving.discard(done.effect_id)
        self._take_said_and_done(done.items)
        self._handle_quietly(ChatLeaveDone(at=self._clock(), effect_id=done.effect_id, error=done.error))

    def _take_said_and_done(self, items: list[ChatItem]) -> None:
        """Of a chat's last items read from its transcript, its messages and agents joining or leaving
        (not its end: the caller decides that)."""
        for item in items:
            if item.kind in (ItemKind.MESSAGE, ItemKind.PARTICIPANT_JOINED, ItemKind.PARTICIPANT_LEFT):
                self._take_item(item)

    def _prepared_for_the_user(self, command: ConnectMessageReceived) -> ConnectMessageReceived:
        """A message from Connect as the user is to get it, when the core's egress plan says so:
        translated (on failure, as written, with the reason for the agent), then its links shortened
        (each one that cannot be, as written). Done here, on the actor's thread, so that messages,
        joins and leaves still reach the core in Connect's order."""
        plan = egress_plan(self.state, command)
        if plan is None:
            return command
        content, error = command.content, None
        if plan.translation is not None:
            try:
                content = self._translate(plan.translation, content, client_token=command.message_id)
            except ToolError as failure:
                error = _tool_error(failure)
        if plan.short_links is not None:
            content = with_short_links(content, self._short_forms(plan.short_links, content))
        original = command.content if content != command.content else None
        return msgspec.structs.replace(command, content=content, original_content=original, translation_error=error)

    def _short_forms(self, rule: ShortLinkRule, text: str) -> dict[str, str]:
        """The short form of each link of `text` that could be had (the others go as written)."""
        try:
            return self._tools.shorten(rule, find_links(text))
        except ToolError:
            return {}  # logged where it failed

    def _content_short_forms(self, template: str) -> dict[str, str]:
        """The short forms of the links a content item sends the user, filled as the core fills it, when
        the worker shortens links (none when a placeholder is missing: the core refuses the item)."""
        rule = self.state.short_links
        if rule is None:
            return {}
        text, missing = fill_placeholders(template, self.state.context)
        return {} if missing else self._short_forms(rule, text)

    def _translate(self, rule: TranslationRule, text: str, client_token: str) -> str:
        assert self.state.target is not None
        return self._tools.translate(
            rule.connector_alias, text, rule.source_language_code, rule.target_language_code,
            region=self.state.target.region, client_token=client_token,
        )

    def _run_slash_action(self, effect: RunSlashAction) -> Command | None:
        """A content item is read as often as needed; a connector is called at most once: the call is
        recorded first, and one recorded before a restart is settled by the core, not made again."""
        assert self.state.target is not None
        action, at = effect.action, self._clock
        try:
            if action.type == "content":
                template = self._tools.content(effect.worker_id, action.value)
                return SlashContentFound(
                    at=at(), effect_id=effect.effect_id, template=template,
                    short_links=self._content_short_forms(template),
                )
            try:
                self._handle_report(SlashActionStarting(at=at(), effect_id=effect.effect_id))
            except Rejected:
                return None  # the chat ended meanwhile
            if effect.effect_id not in self.state.started_slash_actions:
                return None
            self._tools.run_connector(
                action.value, effect.context, region=self.state.target.region, client_token=effect.client_token
            )
        except ToolError as error:
            return SlashActionFailure(at=at(), effect_id=effect.effect_id, error=_tool_error(error))
        return SlashActionSucceeded(at=at(), effect_id=effect.effect_id)

    def _detail(self, error: ConnectError) -> ErrorDetail:
        """What the conversation records of a refusal. A denial (a role not assumed, a permission Connect
        refused) says what to allow, and the operator gets it in one line naming worker, secret and region."""
        target, worker_id = self.state.target, self.state.worker_id
        if target is None or worker_id is None or not is_denial(error):
            return _detail(error)
        detail = denial_detail(error, worker_id=worker_id, target=target)
        log.error(
            "conversation %s: worker %s, secret %s, region %s: %s failed: %s: %s",
            self.state.conversation_id, worker_id, target.secret, target.region,
            error.operation, detail.code, detail.message,
        )
        return detail

    def _retry_later(self, effect: AnyEffect, error: RetryableError) -> None:
        self._failures += 1
        delay = self._backoff.delay(self._failures)
        log.warning(
            "conversation %s: %s failed (%s), retry %d in %.1f s",
            self.state.conversation_id, type(effect).__name__, error.code, self._failures, delay,
        )
        ref = self.actor_ref
        self._retry_timer = LATER.call_later(delay, lambda: _tell_if_alive(ref, _RetryEffects()))

    # -- the chat socket --------------------------------------------------

    def _open_socket(self, after_id: str | None) -> None:
        assert self.state.chat is not None and self.state.initial_connection_message is not None
        ref = self.actor_ref
        holder: list[ChatSocket] = []
        socket = self._socket_factory(
            self._clients.participant,
            self.state.chat.participant_token,
            on_item=lambda item: _tell_if_alive(ref, _Item(item, holder[0])) if _may_record(item) else None,
            on_state=lambda state: _tell_if_alive(ref, _Socket(state, holder[0])),
            subscribe_message=self.state.initial_connection_message,
            after_id=after_id,
            last_connection_token=self.state.chat.connection_token,
            name=f"chat-socket-{self.state.conversation_id}",
        )
        holder.append(socket)
        self._socket = socket
        socket.start()

    def _socket_changed(self, message: _Socket) -> None:
        if message.socket is not self._socket:
            return
        state = message.state
        if isinstance(state, SocketCredentials):
            # Kept before the socket serves: a chat that ends while the service is down is read with it.
            self._handle_quietly(ConnectionTokenReceived(at=self._clock(), connection_token=state.connection_token))
        elif isinstance(state, SocketConnected):
            self._connection_token = state.connection.connection_token
            self._hold_secrets()
            self._handle_quietly(
                ConnectionEstablished(at=self._clock(), connection_token=self._connection_token, renewed=state.renewed)
            )
            self._caught_up()
            self._perform()
        elif isinstance(state, SocketReconnecting):
            self._catching_up = True  # the chat goes on at Connect unread until the fill: see `_caught_up`
            log.warning(
                "conversation %s: chat socket retry %d in %.1f s: %s",
                self.state.conversation_id, state.attempt, state.delay_seconds, state.reason,
            )
        elif isinstance(state, SocketStopped):
            self._socket = None
            self._connection_token = None
            if state.reason is StopReason.GAVE_UP:
                error = ErrorDetail(code="ChatSocketGaveUp", message=f"chat socket gave up: {state.detail}")
                self._handle_quietly(ChatFailed(at=self._clock(), error=error))
            elif state.reason is StopReason.CHAT_ENDED and self.state.phase not in ("ended", "returned"):
                # Only when the chat's last items could not be read (no connection token kept, or it expired).
                error = ErrorDetail(
                    code="ChatEndedAtConnect",
                    message="the chat ended at Connect and its last items could not be read: some may be missing",
                )
                self._handle_quietly(ChatFailed(at=self._clock(), error=error))
            self._caught_up()

    def _caught_up(self) -> None:
        """The socket has told what Connect recorded up to now (its fill came before `SocketConnected`,
        a chat's last items before `SocketStopped`), or will tell nothing more: the timers that fell due
        meanwhile (since a restart, or since the socket dropped) decide now, from what is known (an agent
        who left ended the chat, and they are stale)."""
        self._catching_up = False
        held, self._held_timers = self._held_timers, []
        for command in held:
            self._handle_quietly(msgspec.structs.replace(command, at=self._clock()))


def _has_chat_to_read(state: ConversationState) -> bool:
    """Whether resuming the conversation opens its chat's socket, to read what Connect recorded since."""
    return state.chat is not None and state.phase in ("started", "connected")


def leave_chat(participant: Participant, effect: LeaveChat, conversation_id: str) -> tuple[list[ChatItem], ErrorDetail | None]:
    """Leave the chat a failover move left behind, off the conversation's thread: tell its agent, read
    what they wrote since the last item recorded (at least up to the notice), then disconnect. With
    the chat's last connection token, or a new connection when it had none or it expired. One try (the
    client's own retries aside). What was read, and why it failed if it did."""
    notice_token = str(uuid.uuid5(uuid.UUID(effect.client_token), "notice"))
    items: list[ChatItem] = []
    try:
        token = effect.connection_token or participant.connect(effect.participant_token).connection_token
        try:
            participant.send_message(token, LEFT_BEHIND_NOTICE, notice_token)
        except AccessDenied:  # the kept connection token expired
            token = participant.connect(effect.participant_token).connection_token
            participant.send_message(token, LEFT_BEHIND_NOTICE, notice_token)
        items = participant.transcript_after(token, effect.after_id)
        participant.disconnect(token, effect.client_token)
    except ConnectError as error:
        log.warning(
            "conversation %s: the chat left behind in %s could not be left: %s", conversation_id, effect.target.region,
            error.code,
        )
        return items, _detail(error)
    return items, None


def _tool_error(error: ToolError) -> ErrorDetail:
    return ErrorDetail(code=error.code, message=error.message)


def _tell_if_alive(ref: pykka.ActorRef, message: Any) -> None:
    """From the socket hub's thread, or a delayed call's: an actor already stopped has no use for the news."""
    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        pass


def get_state(ref: pykka.ActorRef, timeout: float | None = None) -> ConversationState:
    return ref.ask(_GetState(), timeout=timeout)


def tell(ref: pykka.ActorRef, command: Command) -> None:
    """Hand the actor a command without waiting; a rejection is logged, not raised."""
    ref.tell(_Report(command))


def resume(ref: pykka.ActorRef) -> None:
    ref.tell(_Resume())


def _detail(error: ConnectError) -> ErrorDetail:
    """What the conversation records of a refusal: Connect's error name and message (never a token)."""
    return ErrorDetail(code=error.code, message=error.detail)


def _failure(effect: AnyEffect, error: ConnectError, detail: ErrorDetail, at: float) -> Command | None:
    """The failure command for an effect refused for good, with what is recorded of why (None: nothing to report)."""
    if isinstance(effect, StartChat):
        return ChatStartFailure(at=at, effect_id=effect.effect_id, error=detail)
    if isinstance(effect, SendMessage):
        if isinstance(error, ContentTooLong):
            return UserMessageTooLong(at=at, effect_id=effect.effect_id, error=detail)
        return UserMessageRefused(at=at, effect_id=effect.effect_id, error=detail)
    if isinstance(effect, (SendTyping,)):
        return TypingAcknowledged(at=at, effect_id=effect.effect_id)
    return None


def _attributes(context: dict[str, Any]) -> dict[str, str]:
    """Contact attributes are strings: the bot context's scalar values, as text."""
    return {
        str(key): value if isinstance(value, str) else str(value)
        for key, value in context.items()
        if isinstance(value, (str, int, float, bool))
    }


def _connect_time(item: ChatItem) -> float:
    """When Connect says the item happened (its AbsoluteTime, Unix seconds); now if it says nothing usable."""
    try:
        return datetime.fromisoformat(item.absolute_time).timestamp()
    except (TypeError, ValueError):
        return time.time()


def _may_record(item: ChatItem) -> bool:
    """Whether a socket's item is worth the actor's time: not a message the worker sent itself, which
    Connect shows back for every bot message and which records nothing (`sent_by_the_worker`). Told,
    it would cost a hand-off from the hub to a pool thread and a pass through the core: one of the four
    messages each exchange (a bot's message, the agent's answer) brought the actor."""
    return not (item.kind is ItemKind.MESSAGE and sent_by_the_worker(_role(item)))


def _role(item: ChatItem) -> str:
    return item.participant_role if item.participant_role in _ROLES else "SYSTEM"


def _command_for(item: ChatItem, at: float) -> Command | None:
    """A chat item from the socket or the transcript as the command it reports."""
    role = _role(item)
    name = item.display_name or ""
    kind = item.kind
    if kind is ItemKind.MESSAGE:
        return ConnectMessageReceived(
            at=at, message_id=item.id, role=role, display_name=name,
            content=item.content or "", content_type=item.content_type,
        )
    if kind is ItemKind.PARTICIPANT_JOINED:
        return ParticipantJoinedReceived(at=at, message_id=item.id, role=role, display_name=name)
    if kind is ItemKind.PARTICIPANT_LEFT:
        return ParticipantLeftReceived(at=at, message_id=item.id, role=role, display_name=name)
    if kind is ItemKind.TYPING:
        return TypingEventReceived(at=at, role=role, display_name=name)
    if kind is ItemKind.CHAT_ENDED:
        return ChatEndedReceived(at=at, message_id=item.id)
    return None

