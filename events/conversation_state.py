"""A conversation's state and how each event changes it (`evolve`), with the queries the shell asks.

Replay is `functools.reduce(evolve, events, initial_state(conversation_id))`:
the very fold that recovery and `run.py replay` use.
"""

from __future__ import annotations

from typing import Any, Callable, Literal

import msgspec
from msgspec.structs import replace

from events.conversation_events import (
    AgentJoined,
    AgentLeft,
    AgentMessageReceived,
    AutoDisconnectRule,
    ChatEnded,
    ChatLeaveRequested,
    ChatLeft,
    ChatStarted,
    ChatStartFailed,
    ChatStartRequested,
    ConnectionOpened,
    ConnectionRenewed,
    ConnectionTokenKept,
    ConnectTarget,
    ContextUpdated,
    ContextUpdateRefused,
    ContextUpdateRequested,
    ConversationEvent,
    Disconnected,
    DisconnectRequested,
    ErrorDetail,
    FailoverSwitched,
    MessageRefused,
    ReturnedToBot,
    SessionEndReason,
    SlashActionDone,
    SlashActionFailed,
    SlashActionRequested,
    SlashActionStarted,
    SlashCommandReceived,
    SlashContentSent,
    TimerArmed,
    TimerCancelled,
    TranslationRule,
    ShortLinkRule,
    MessageTranslated,
    UserMessageTranslated,
    UserMessageTranslationRequested,
    TimerFired,
    Transferred,
    TypingReceived,
    UserMessageFailed,
    UserMessageRequested,
    UserMessageResplit,
    UserMessageSent,
    UserNotified,
    UserTypingRequested,
    UserTypingSent,
)
from events.effects import (
    AnyEffect,
    DisconnectParticipant,
    LeaveChat,
    RunSlashAction,
    SendMessage,
    TranslateUserMessage,
    SendTyping,
    StartChat,
    UpdateContactAttributes,
)
from events.seen_ids import SeenIds
from events.slash_commands import SlashCommandRule

Phase = Literal["new", "starting", "started", "connected", "ended", "returned"]


class Chat(msgspec.Struct, frozen=True, kw_only=True):
    """The chat at Connect. The participant token and the last connection token are credentials:
    kept out of `repr`. `connection_token` reads the transcript of a chat that ended while the
    service was down (Connect refuses a new connection then)."""

    contact_id: str
    participant_id: str
    participant_token: str
    connection_token: str | None = None

    def __repr__(self) -> str:
        return (
            f"Chat(contact_id={self.contact_id!r}, participant_id={self.participant_id!r}, "
            "participant_token='<redacted>', connection_token='<redacted>')"
        )


class ConversationState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything `decide` needs, rebuilt by folding the stream.

    `version` is the number of events applied, which is the stream's version in
    the store; the next event is written at `version + 1`. `pending` holds the
    intents without their done, by the sequence they were written at.
    `last_connect_id` is the last Connect item recorded (a message, an agent
    joining or leaving): a gap fill after a restart starts after it.
    """

    conversation_id: str
    version: int = 0
    phase: Phase = "new"
    worker_id: str | None = None
    client_id: str | None = None
    bot_name: str | None = None
    display_name: str | None = None
    context: dict[str, Any] = {}
    deliver_to: str | None = None
    target: ConnectTarget | None = None
    initial_connection_message: str | None = None
    auto_disconnect: tuple[AutoDisconnectRule, ...] = ()
    slash_commands: tuple[SlashCommandRule, ...] = ()
    ingress_translation: TranslationRule | None = None
    egress_translation: TranslationRule | None = None
    short_links: ShortLinkRule | None = None
    # SlashActionRequested seqs whose connector call was started (SlashActionStarted) without a done yet.
    started_slash_actions: frozenset[int] = frozenset()
    chat: Chat | None = None
    chat_start_seq: int | None = None
    connections: int = 0
    pending: dict[int, ConversationEvent] = {}
    armed_timers: tuple[TimerArmed, ...] = ()
    seen_connect_ids: SeenIds = SeenIds()
    seen_bot_message_ids: SeenIds = SeenIds()
    last_connect_id: str | None = None
    last_known_agent: str | None = None
    disconnect_requested: bool = False
    end_reason: SessionEndReason | None = None
    end_error: ErrorDetail | None = None
    failover_order: int = 0  # the last failover order of its worker it took (events/worker.py)


def initial_state(conversation_id: str) -> ConversationState:
    return ConversationState(conversation_id=conversation_id)


def evolve(state: ConversationState, event: ConversationEvent) -> ConversationState:
    """The state after `event`. Pure and cheap: one dict lookup and one `replace`."""
    return _EVOLVERS[type(event)](state, event)


def _adding(pending: dict[int, ConversationEvent], seq: int, event: ConversationEvent) -> dict[int, ConversationEvent]:
    added = pending.copy()
    added[seq] = event
    return added


def _with_pending(state: ConversationState, event: ConversationEvent) -> ConversationState:
    seq = state.version + 1
    return replace(state, version=seq, pending=_adding(state.pending, seq, event))


def _without(pending: dict[int, ConversationEvent], seq: int) -> dict[int, ConversationEvent]:
    return {key: value for key, value in pending.items() if key != seq}


def _transferred(state: ConversationState, event: Transferred) -> ConversationState:
    return replace(
        state,
        version=state.version + 1,
        phase="starting",
        worker_id=event.worker_id,
        client_id=event.client_id,
        bot_name=event.bot_name,
        display_name=event.display_name,
        context=event.context,
        deliver_to=event.deliver_to,
        target=event.target,
        initial_connection_message=event.initial_connection_message,
        auto_disconnect=event.auto_disconnect,
        slash_commands=event.slash_commands,
        ingress_translation=event.ingress_translation,
        egress_translation=event.egress_translation,
        short_links=event.short_links,
        failover_order=event.failover_order,
    )


def _chat_start_requested(state: ConversationState, event: ChatStartRequested) -> ConversationState:
    # A new request (after a failover switch) supersedes the one before it.
    seq = state.version + 1
    pending = {key: value for key, value in state.pending.items() if not isinstance(value, ChatStartRequested)}
    pending[seq] = event
    return replace(state, version=seq, pending=pending, chat_start_seq=seq, target=event.target)


def _chat_started(state: ConversationState, event: ChatStarted) -> ConversationState:
    chat = Chat(
        contact_id=event.contact_id,
        participant_id=event.participant_id,
        participant_token=event.participant_token,
    )
    return replace(
        state,
        version=state.version + 1,
        pending=_without(state.pending, event.request_seq),
        phase="started",
        chat=chat,
        chat_start_seq=None,
    )


def _chat_start_failed(state: ConversationState, event: ChatStartFailed) -> ConversationState:
    return replace(
        state, version=state.version + 1, pending=_without(state.pending, event.request_seq), chat_start_seq=None
    )


def _connection_opened(state: ConversationState, event: ConnectionOpened) -> ConversationState:
    chat = _with_connection_token(state.chat, event.connection_token)
    return replace(state, version=state.version + 1, phase="connected", connections=state.connections + 1, chat=chat)


def _connection_renewed(state: ConversationState, event: ConnectionRenewed | ConnectionTokenKept) -> ConversationState:
    return replace(state, version=state.version + 1, chat=_with_connection_token(state.chat, event.connection_token))


def _with_connection_token(chat: Chat | None, token: str | None) -> Chat | None:
    return chat if chat is None or token is None else replace(chat, connection_token=token)


def _user_message_requested(
    state: ConversationState, event: UserMessageRequested | UserMessageTranslationRequested
) -> ConversationState:
    # The pieces of a long message share their bot message id: it is kept once.
    if event.bot_message_id is None or event.bot_message_id in state.seen_bot_message_ids:
        return _with_pending(state, event)
    seq = state.version + 1
    return replace(
        state,
        version=seq,
        pending=_adding(state.pending, seq, event),
        seen_bot_message_ids=state.seen_bot_message_ids.add(event.bot_message_id),
    )


def _done(
    state: ConversationState,
    event: UserMessageSent | UserMessageFailed | UserMessageResplit | UserTypingSent | ContextUpdated | Disconnected
    | SlashActionDone | SlashActionFailed | UserMessageTranslated | ChatLeft,
) -> ConversationState:
    return replace(state, version=state.version + 1, pending=_without(state.pending, event.request_seq))


def _agent_message_received(state: ConversationState, event: AgentMessageReceived) -> ConversationState:
    seen = state.seen_connect_ids.add(event.connect_message_id)
    agent = event.agent_name if event.role == "AGENT" else state.last_known_agent
    return replace(
        state,
        version=state.version + 1,
        seen_connect_ids=seen,
        last_connect_id=event.connect_message_id,
        last_known_agent=agent,
    )


def _agent_item_seen(state: ConversationState, event: AgentJoined | AgentLeft | SlashCommandReceived) -> ConversationState:
    return replace(
        state,
        version=state.version + 1,
        seen_connect_ids=state.seen_connect_ids.add(event.connect_message_id),
        last_connect_id=event.connect_message_id,
        last_known_agent=event.agent_name,
    )


def _nothing_changes(state: ConversationState, event: ConversationEvent) -> ConversationState:
    return replace(state, version=state.version + 1)


def _context_update_requested(state: ConversationState, event: ContextUpdateRequested) -> ConversationState:
    seq = state.version + 1
    return replace(state, version=seq, pending=_adding(state.pending, seq, event), context=event.context)


def _disconnect_requested(state: ConversationState, event: DisconnectRequested) -> ConversationState:
    seq = state.version + 1
    return replace(state, version=seq, pending=_adding(state.pending, seq, event), disconnect_requested=True)


def _timer_armed(state: ConversationState, event: TimerArmed) -> ConversationState:
    return replace(state, version=state.version + 1, armed_timers=state.armed_timers + (event,))


def _timer_gone(state: ConversationState, event: TimerFired | TimerCancelled) -> ConversationState:
    timers = tuple(timer for timer in state.armed_timers if timer.timer_id != event.timer_id)
    return replace(state, version=state.version + 1, armed_timers=timers)


def _failover_switched(state: ConversationState, event: FailoverSwitched) -> ConversationState:
    """A move forgets the chat left behind (its leaving is its own intent, written next): the
    conversation is starting again, and a gap fill will read the new chat from its beginning."""
    state = replace(state, version=state.version + 1, failover_order=event.order)
    if not event.moved:
        return state
    return replace(state, target=event.target, phase="starting", chat=None, last_connect_id=None)


def _chat_ended(state: ConversationState, event: ChatEnded) -> ConversationState:
    # Whatever was still to be done at Connect is moot once the chat is over.
    return replace(
        state,
        version=state.version + 1,
        phase="ended",
        end_reason=event.reason,
        end_error=event.error,
        pending={},
        armed_timers=(),
    )


def _slash_action_started(state: ConversationState, event: SlashActionStarted) -> ConversationState:
    return replace(state, version=state.version + 1, started_slash_actions=state.started_slash_actions | {event.request_seq})


def _slash_action_settled(state: ConversationState, event: SlashActionDone | SlashActionFailed) -> ConversationState:
    return replace(
        _done(state, event), started_slash_actions=state.started_slash_actions - {event.request_seq}
    )


def _returned_to_bot(state: ConversationState, event: ReturnedToBot) -> ConversationState:
    return replace(state, version=state.version + 1, phase="returned")


_EVOLVERS: dict[type, Callable[[ConversationState, Any], ConversationState]] = {
    Transferred: _transferred,
    ChatStartRequested: _chat_start_requested,
    ChatStarted: _chat_started,
    ChatStartFailed: _chat_start_failed,
    ConnectionOpened: _connection_opened,
    ConnectionRenewed: _connection_renewed,
    ConnectionTokenKept: _connection_renewed,
    UserMessageRequested: _user_message_requested,
    UserMessageTranslationRequested: _user_message_requested,
    UserMessageTranslated: _done,
    MessageTranslated: _nothing_changes,
    UserMessageSent: _done,
    UserMessageFailed: _done,
    UserMessageResplit: _done,
    MessageRefused: _nothing_changes,
    UserTypingRequested: _with_pending,
    UserTypingSent: _done,
    AgentMessageReceived: _agent_message_received,
    AgentJoined: _agent_item_seen,
    AgentLeft: _agent_item_seen,
    TypingReceived: _nothing_changes,
    UserNotified: _nothing_changes,
    SlashCommandReceived: _agent_item_seen,
    SlashActionRequested: _with_pending,
    SlashActionStarted: _slash_action_started,
    SlashActionDone: _slash_action_settled,
    SlashActionFailed: _slash_action_settled,
    SlashContentSent: _nothing_changes,
    ContextUpdateRequested: _context_update_requested,
    ContextUpdated: _done,
    ContextUpdateRefused: _nothing_changes,
    DisconnectRequested: _disconnect_requested,
    Disconnected: _done,
    TimerArmed: _timer_armed,
    TimerFired: _timer_gone,
    TimerCancelled: _timer_gone,
    FailoverSwitched: _failover_switched,
    ChatLeaveRequested: _with_pending,
    ChatLeft: _done,
    ChatEnded: _chat_ended,
    ReturnedToBot: _returned_to_bot,
}


def pending_effects(state: ConversationState) -> list[AnyEffect]:
    """The intents without their done that can be performed now, in the order to perform them.

    StartChat runs while the chat is starting; LeaveChat (the chat a failover
    move left behind) at any time; UpdateContactAttributes once the chat
    exists; SendMessage, SendTyping and DisconnectParticipant need the
    participant connection, so they wait (recorded, in order) until it is open.
    """
    effects: list[AnyEffect] = []
    for seq in sorted(state.pending, key=lambda seq: place_of(seq, state.pending[seq])):
        effect = _effect(state, seq, state.pending[seq])
        if effect is not None:
            effects.append(effect)
    return effects


def place_of(seq: int, intent: ConversationEvent) -> tuple[int, ...]:
    """Where an intent is performed among the pending ones: by its seq, except that the smaller
    pieces of a message piece Connect refused as too long take that piece's place, in their order
    (place (7, 0) and (7, 1) for piece 7; (7, 0, 1) for the second half of (7, 0)), and that a
    translated message's pieces take its translation intent's place (the agent's notice of a failed
    translation just before them, at (7, -1))."""
    if isinstance(intent, UserMessageRequested) and intent.place:
        return intent.place
    return (seq,)


def _effect(state: ConversationState, seq: int, intent: ConversationEvent) -> AnyEffect | None:
    if isinstance(intent, ChatStartRequested):
        if state.phase != "starting" or state.display_name is None:
            return None
        return StartChat(
            effect_id=seq,
            client_token=intent.client_token,
            target=intent.target,
            display_name=state.display_name,
            context=state.context,
            transcript_until=intent.transcript_until,
        )
    if isinstance(intent, ChatLeaveRequested):
        return LeaveChat(
            effect_id=seq,
            client_token=intent.client_token,
            target=intent.target,
            participant_token=intent.participant_token,
            connection_token=intent.connection_token,
            after_id=intent.after_id,
        )
    if isinstance(intent, ContextUpdateRequested):
        if state.phase not in ("started", "connected"):
            return None
        return UpdateContactAttributes(effect_id=seq, context=intent.context)
    if isinstance(intent, UserMessageTranslationRequested):
        assert state.ingress_translation is not None
        return TranslateUserMessage(
            effect_id=seq, rule=state.ingress_translation, text=intent.text, client_token=intent.client_token
        )
    if isinstance(intent, SlashActionRequested):
        assert state.worker_id is not None
        return RunSlashAction(
            effect_id=seq, action=intent.action, worker_id=state.worker_id, context=state.context,
            client_token=intent.client_token,
        )
    if state.phase != "connected":
        return None
    if isinstance(intent, UserMessageRequested):
        return SendMessage(
            effect_id=seq, client_token=intent.client_token, text=intent.text, content_type=intent.content_type
        )
    if isinstance(intent, UserTypingRequested):
        return SendTyping(effect_id=seq, client_token=intent.client_token)
    if isinstance(intent, DisconnectRequested):
        return DisconnectParticipant(effect_id=seq, client_token=intent.client_token)
    return None


def armed_timers(state: ConversationState) -> list[TimerArmed]:
    """The auto-disconnect timers the timer service must schedule (on recovery: all of them)."""
    return list(state.armed_timers)


def handback(event: ReturnedToBot) -> dict[str, Any]:
    """The context the bot gets back: its own context with the three hand-back items merged in.

    The seed says these items are "available in context", so they are set at the
    top level of the returned context (over any key of the same name).
    `LastKnownAgent` is None when no agent ever joined; `ParticipantId` when no
    chat was started. When the reason is Error, `Error` says why
    (`{"Code", "Message"}`; absent from hand-backs logged before it was kept).
    `ConnectRegion` says which region served it last (absent from older hand-backs).

    >>> handback(ReturnedToBot(at=0, session_end_reason="AgentLeft", last_known_agent="Ana",
    ...                        participant_id="p-1", context={"FirstName": "Bo"}))["LastKnownAgent"]
    {'AgentName': 'Ana'}
    """
    context = {
        **event.context,
        "SessionEndReason": event.session_end_reason,
        "LastKnownAgent": known_agent(event.last_known_agent),
        "ParticipantId": event.participant_id,
    }
    if event.error is not None:
        context["Error"] = {"Code": event.error.code, "Message": event.error.message}
    if event.served_by is not None:
        context["ConnectRegion"] = served_by(event.served_by)
    return context


def served_by(target: ConnectTarget) -> dict[str, str | None]:
    """`ConnectRegion` in the hand-back: the AWS region that served the conversation last and the
    name of its failover region (None: the worker's primary region)."""
    return {"Region": target.region, "FailoverRegion": target.failover_region}


def known_agent(name: str | None) -> dict[str, str] | None:
    """`LastKnownAgent` as the bot sees it everywhere (hand-back and state API): `{"AgentName": ...}` or None."""
    return None if name is None else {"AgentName": name}
