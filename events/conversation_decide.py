"""`decide`: what happens when a command reaches a conversation. Pure; raises only `Rejected`.

Each handler returns the events in the order they are appended; the sequence
an event will be written at is `state.version + 1 + its index`, which is what
client tokens and timer ids are derived from.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, TypeVar

import msgspec

from events.commands import (
    ChatEndedReceived,
    ChatLeaveDone,
    ChatFailed,
    ChatStartFailure,
    ChatStartSucceeded,
    Command,
    ConnectionEstablished,
    ConnectionTokenReceived,
    ConnectMessageReceived,
    ContextChanged,
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
    UserLeaves,
    UserMessageAcknowledged,
    UserMessageRefused,
    UserMessageTooLong,
    UserMessageTranslationDone,
    UserSays,
    UserTyping,
)
from events.conversation_events import (
    AgentJoined,
    AgentLeft,
    AgentMessageReceived,
    ChatEnded,
    ChatLeaveRequested,
    ChatLeft,
    ChatStarted,
    ChatStartFailed,
    ChatStartRequested,
    ConnectionOpened,
    ConnectionRenewed,
    ConnectionTokenKept,
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
    TimerArmed,
    SlashActionDone,
    SlashActionFailed,
    SlashActionRequested,
    SlashActionStarted,
    SlashCommandReceived,
    SlashContentSent,
    TimerCancelled,
    TimerFired,
    Transferred,
    TypingReceived,
    UserMessageFailed,
    UserMessageRequested,
    UserMessageResplit,
    UserMessageSent,
    UserMessageTranslated,
    UserMessageTranslationRequested,
    MessageTranslated,
    ShortLinkRule,
    TranslationRule,
    UserNotified,
    UserTypingRequested,
    UserTypingSent,
)
from events.conversation_state import ConversationState, place_of
from events.links import with_short_links
from events.long_messages import MAX_MESSAGE_BYTES, MIN_LIMIT, split_message, utf8_size
from events.rejection import Rejected
from events.slash_commands import (
    HELP,
    command_in,
    fill_placeholders,
    help_text,
    notice,
    rule_named,
    unknown_command_text,
)

# botocore's bound on ParticipantDetails.DisplayName (1..256).
MAX_DISPLAY_NAME = 256
# A user message longer than Connect takes is sent as at most this many
# messages, so at most 163,840 bytes: room for a long summary or a pasted
# document, while one request cannot flood the agent's chat.
MAX_MESSAGE_PIECES = 10
# A piece Connect refuses as too long is split in halves and sent again, down
# to this size; a piece this small that is still "too long" is refused for good.
MIN_RESPLIT_BYTES = 256
# What a translator is given: text, not an attachment or an event.
TRANSLATED_CONTENT_TYPES = ("text/plain", "text/markdown")
# The code of an Error end our own, where Connect gave none.
NO_AGENT_JOINED = ErrorDetail(code="NoAgentJoined", message="the chat ended before any agent joined")
CHAT_ENDED_FIRST = ErrorDetail(
    code="ChatEnded", message="the chat ended before Connect confirmed this message: it may not have reached the agent"
)

# What the user is told (through the bot, as a UserNotified) when a failover move starts their chat
# again in another region.
MOVED_NOTICE = (
    "We are moving your chat to another of our contact centres. An agent will be with you shortly;"
    " they can see our conversation so far."
)

_Intent = TypeVar("_Intent", bound=ConversationEvent)

_CLIENT_TOKENS = uuid.UUID("5b0c6f1e-8f0e-4d3a-9a53-6c6f6e6e6563")


def client_token(conversation_id: str, seq: int) -> str:
    """The ClientToken of the intent written at `seq`: the same after a crash and a replay."""
    return str(uuid.uuid5(_CLIENT_TOKENS, f"{conversation_id}/{seq}"))


def timer_id(conversation_id: str, seq: int) -> str:
    return f"{conversation_id}/timer/{seq}"


def display_name(user_name: str | None, context: dict[str, Any], bot_name: str) -> tuple[str, str]:
    """The customer's name at Connect: the name set in context, else the bot's name (the seed's rule),
    and the field of the transfer's body it came from, to name in a refusal.

    The name in context arrives as `Transfer.user_name`, or as the context key `name`.
    """
    for candidate, field in ((user_name, "User.Name"), (context.get("name"), "Context.name"), (bot_name, "BotName")):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip(), field
    return bot_name, "BotName"


def decide(state: ConversationState, command: Command) -> list[ConversationEvent]:
    """The events `command` causes in `state`, or `Rejected` if it is not legal now."""
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise Rejected("unknown_command", f"{type(command).__name__} is not a conversation command")
    return handler(state, command)


def _seq(state: ConversationState, index: int = 0) -> int:
    return state.version + 1 + index


def _token(state: ConversationState, index: int = 0) -> str:
    return client_token(state.conversation_id, _seq(state, index))


def _require_transferred(state: ConversationState) -> None:
    if state.phase == "new":
        raise Rejected("not_transferred", f"conversation {state.conversation_id!r} was never transferred")


def _require_live(state: ConversationState) -> None:
    _require_transferred(state)
    if state.phase in ("ended", "returned"):
        raise Rejected("conversation_ended", f"conversation {state.conversation_id!r} has ended")


def _is_over(state: ConversationState) -> bool:
    return state.phase in ("ended", "returned")


def _transfer(state: ConversationState, command: Transfer) -> list[ConversationEvent]:
    if state.phase != "new":
        _require_live(state)
        raise Rejected("already_transferred", f"conversation {state.conversation_id!r} is already with a worker")
    name, field = display_name(command.user_name, command.context, command.bot_name)
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise Rejected(
            "invalid_display_name",
            f"$.{field}: the customer's display name at Connect (User.Name, else Context.name, else BotName)"
            f" must be 1 to {MAX_DISPLAY_NAME} characters, got {len(name)}",
        )
    return [
        Transferred(
            at=command.at,
            worker_id=command.worker_id,
            bot_name=command.bot_name,
            display_name=name,
            context=command.context,
            deliver_to=command.deliver_to,
            target=command.target,
            initial_connection_message=command.initial_connection_message,
            auto_disconnect=command.auto_disconnect,
            client_id=command.client_id,
            slash_commands=command.slash_commands,
            ingress_translation=command.ingress_translation,
            egress_translation=command.egress_translation,
            short_links=command.short_links,
            failover_order=command.failover_order,
        ),
        ChatStartRequested(at=command.at, target=command.target, client_token=_token(state, 1)),
    ]


def _user_says(state: ConversationState, command: UserSays) -> list[ConversationEvent]:
    _require_live(state)
    if command.bot_message_id in state.seen_bot_message_ids:
        return []  # the bot retried a message already accepted
    if state.disconnect_requested:
        raise Rejected("user_left", "the user has left this conversation")
    if not command.text:
        raise Rejected("empty_message", "a message needs at least one character")
    pieces = _message_pieces(command.text, _message_limit(state))
    if state.ingress_translation is not None and command.content_type in TRANSLATED_CONTENT_TYPES:
        translate = UserMessageTranslationRequested(
            at=command.at, bot_message_id=command.bot_message_id, text=command.text,
            content_type=command.content_type, client_token=_token(state),
        )
        return [translate, *_cancel_timers(state, command.at)]
    requests = _send_pieces(state, command.at, pieces, command.content_type, command.bot_message_id, index=0)
    # The user answered: the auto-disconnect timers that count their silence stop.
    return [*requests, *_cancel_timers(state, command.at)]


def _send_pieces(
    state: ConversationState,
    at: float,
    pieces: list[str],
    content_type: str,
    bot_message_id: str,
    index: int,
    place: tuple[int, ...] = (),
) -> list[ConversationEvent]:
    """One intent per piece, written from `index` on in this decision: each has its own client token,
    and they are sent in the order of their seqs, or, given a `place` (a translated message's: its
    translation intent's), there in their order, before whatever the bot said after it."""
    return [
        UserMessageRequested(
            at=at, text=piece, content_type=content_type, bot_message_id=bot_message_id,
            client_token=_token(state, index + offset), place=(*place, offset) if place else (),
        )
        for offset, piece in enumerate(pieces)
    ]


def _user_message_translation_done(state: ConversationState, command: UserMessageTranslationDone) -> list[ConversationEvent]:
    """The bot's message goes to the agent translated; if the translation failed (or is empty, or
    cannot be sent in MAX_MESSAGE_PIECES), as written, and the agent is told why first. Either way in
    the translation intent's place, so that messages reach the agent in the order the bot sent them,
    whatever order their translations finish in."""
    if _is_over(state):
        return []
    intent = _require_pending(state, command.effect_id, UserMessageTranslationRequested)
    limit = _message_limit(state)
    error = command.error
    place = (command.effect_id,)
    if command.translated and error is None:
        try:
            pieces = _message_pieces(command.translated, limit)
        except Rejected as too_long:
            error = ErrorDetail(code="TranslationTooLong", message=too_long.message)
        else:
            done = [
                UserMessageTranslated(at=command.at, request_seq=command.effect_id, translated=command.translated),
                MessageTranslated(
                    at=command.at, bot_message_id=intent.bot_message_id, original=intent.text, translated=command.translated
                ),
            ]
            sends = _send_pieces(
                state, command.at, pieces, intent.content_type, intent.bot_message_id, index=len(done), place=place
            )
            return [*done, *sends]
    error = error or ErrorDetail(code="NoTranslation", message="the translator gave no text")
    failed = UserMessageTranslated(at=command.at, request_seq=command.effect_id, error=f"{error.code}: {error.message}")
    text = notice(f"the user's next message could not be translated ({error.code}: {error.message}); it follows as written")
    told = msgspec.structs.replace(_tell_agent(state, command.at, text, index=1), place=(*place, -1))
    original = _message_pieces(intent.text, limit)
    sends = _send_pieces(state, command.at, original, intent.content_type, intent.bot_message_id, index=2, place=place)
    return [failed, told, *sends]


class EgressPlan(msgspec.Struct, frozen=True, kw_only=True):
    """What the shell does to a message from Connect before the core records it for the user."""

    translation: TranslationRule | None
    short_links: ShortLinkRule | None


def sent_by_the_worker(role: str) -> bool:
    """Whether a chat message with this role is one the worker sent itself: the worker is the chat's
    customer, so Connect shows it back every message it sends for the bot, already recorded when the
    bot asked for it. Such a message records nothing (`decide`), and the shell need not hand it to
    the core at all (actors/conversation.py)."""
    return role == "CUSTOMER"


def egress_plan(state: ConversationState, command: ConnectMessageReceived) -> EgressPlan | None:
    """What a message from Connect needs before it is recorded for the user, if anything: translated
    (EgressTranslationConfig), then its links shortened (ShortLinkConfig). The shell does both and
    passes the result in the same command; neither changes anything outside, so one cut short by a
    crash is simply done again when Connect's item comes again."""
    if (
        (state.egress_translation is None and state.short_links is None)
        or _is_over(state)
        or sent_by_the_worker(command.role)
        or command.message_id in state.seen_connect_ids
        or command.content_type not in TRANSLATED_CONTENT_TYPES
        or (command.role == "AGENT" and command_in(command.content, state.slash_commands) is not None)
    ):
        return None
    return EgressPlan(translation=state.egress_translation, short_links=state.short_links)


def _message_limit(state: ConversationState) -> int:
    return MAX_MESSAGE_BYTES if state.target is None else state.target.max_message_bytes


def _message_pieces(text: str, limit: int) -> list[str]:
    """`text` as messages of at most `limit` UTF-8 bytes, or `Rejected` if it needs more than MAX_MESSAGE_PIECES."""
    size = utf8_size(text)
    # A text too long for the pieces in any case is refused without splitting it first.
    if size <= MAX_MESSAGE_PIECES * limit:
        pieces = split_message(text, limit)
        if len(pieces) <= MAX_MESSAGE_PIECES:
            return pieces
    raise Rejected(
        "message_too_long",
        f"the message is {size:,} bytes in UTF-8; Connect takes at most {limit:,} bytes a message, "
        f"and one message is sent as at most {MAX_MESSAGE_PIECES}",
    )


def _user_typing(state: ConversationState, command: UserTyping) -> list[ConversationEvent]:
    _require_live(state)
    typing_pending = any(isinstance(intent, UserTypingRequested) for intent in state.pending.values())
    if state.phase != "connected" or state.disconnect_requested or typing_pending:
        return []
    return [UserTypingRequested(at=command.at, client_token=_token(state))]


def _user_leaves(state: ConversationState, command: UserLeaves) -> list[ConversationEvent]:
    _require_live(state)
    if state.disconnect_requested:
        return []
    return [
        *_cancel_timers(state, command.at),
        DisconnectRequested(at=command.at, cause="user", client_token=_token(state, len(state.armed_timers))),
    ]


def _context_changed(state: ConversationState, command: ContextChanged) -> list[ConversationEvent]:
    _require_live(state)
    if command.context == state.context:
        return []
    return [ContextUpdateRequested(at=command.at, context=command.context)]


def _switch_region(state: ConversationState, command: SwitchRegion) -> list[ConversationEvent]:
    """The worker's failover order, taken once: a repeat (the order carried out again after a
    restart) or an older order changes nothing. A chat not yet started starts at the new target
    whatever the mode; a started one moves there with "move" (unless the user has left), ending the
    chat left behind after the new one is asked for; otherwise the conversation only records that it
    stays where it is."""
    _require_live(state)
    if command.order and command.order <= state.failover_order:
        return []
    previous = state.target
    assert previous is not None  # transferred
    starting = state.phase == "starting"
    moves = command.target != previous and (starting or (command.mode == "move" and not state.disconnect_requested))
    switched = FailoverSwitched(
        at=command.at, target=command.target if moves else previous, order=command.order, mode=command.mode,
        moved=moves, previous=previous,
    )
    if not moves:
        return [switched]
    # A chat that had started, or a conversation a move already took from one, has something to carry:
    # the log up to the end of this decision (the leave of the old chat, when there is one).
    leaves = not starting and state.chat is not None
    carries = state.chat is not None or state.connections > 0
    restart = ChatStartRequested(
        at=command.at, target=command.target, client_token=_token(state, 1),
        transcript_until=_seq(state, 2 if leaves else 1) if carries else None,
    )
    if not leaves:
        return [switched, restart]
    chat = state.chat
    assert chat is not None
    leave = ChatLeaveRequested(
        at=command.at, target=previous, contact_id=chat.contact_id, participant_id=chat.participant_id,
        participant_token=chat.participant_token, connection_token=chat.connection_token, client_token=_token(state, 2),
        after_id=state.last_connect_id,
    )
    return [switched, restart, leave, UserNotified(at=command.at, text=MOVED_NOTICE)]


def _chat_leave_done(state: ConversationState, command: ChatLeaveDone) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_pending(state, command.effect_id, ChatLeaveRequested)
    error = None if command.error is None else f"{command.error.code}: {command.error.message}"
    return [ChatLeft(at=command.at, request_seq=command.effect_id, error=error)]


def _chat_start_succeeded(state: ConversationState, command: ChatStartSucceeded) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_current_start(state, command.effect_id)
    return [
        ChatStarted(
            at=command.at,
            request_seq=command.effect_id,
            contact_id=command.contact_id,
            participant_id=command.participant_id,
            participant_token=command.participant_token,
        )
    ]


def _chat_start_failure(state: ConversationState, command: ChatStartFailure) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_current_start(state, command.effect_id)
    error = command.error
    failed = ChatStartFailed(at=command.at, request_seq=command.effect_id, error=f"{error.code}: {error.message}")
    return [failed, *_end(state, command.at, "Error", f"Connect refused the chat: {error.code}: {error.message}", error)]


def _require_current_start(state: ConversationState, effect_id: int) -> None:
    if state.chat_start_seq is None or effect_id != state.chat_start_seq:
        raise Rejected("stale_report", f"no chat start is pending as effect {effect_id}")


def _connection_established(state: ConversationState, command: ConnectionEstablished) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_transferred(state)
    if state.chat is None:
        raise Rejected("chat_not_started", "there is no chat to connect to yet")
    if command.renewed:
        return [ConnectionRenewed(at=command.at, connection_token=command.connection_token)]
    return [ConnectionOpened(at=command.at, connection_token=command.connection_token)]


def _connection_token_received(state: ConversationState, command: ConnectionTokenReceived) -> list[ConversationEvent]:
    if _is_over(state) or state.chat is None or state.chat.connection_token == command.connection_token:
        return []
    return [ConnectionTokenKept(at=command.at, connection_token=command.connection_token)]


def _chat_failed(state: ConversationState, command: ChatFailed) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_transferred(state)
    return _end(state, command.at, "Error", command.error.message, command.error)


def _require_chat_or_leaving(state: ConversationState) -> None:
    """A chat to hear from: the one in progress, or the one a failover move is leaving (what its agent
    wrote, or their joining or leaving, before they read the notice is owed to the bot too; its end is
    not this conversation's)."""
    if not any(isinstance(intent, ChatLeaveRequested) for intent in state.pending.values()):
        _require_chat(state)


def _require_chat(state: ConversationState) -> None:
    _require_transferred(state)
    if state.chat is None:
        raise Rejected("chat_not_started", "no chat has started for this conversation")


def _connect_message(state: ConversationState, command: ConnectMessageReceived) -> list[ConversationEvent]:
    if _is_over(state) or sent_by_the_worker(command.role) or command.message_id in state.seen_connect_ids:
        return []
    _require_chat_or_leaving(state)
    command_name = command_in(command.content, state.slash_commands) if command.role == "AGENT" else None
    if command_name is not None:
        return _slash_command(state, command, command_name)
    original = command.original_content if command.original_content != command.content else None
    message = AgentMessageReceived(
        at=command.at,
        connect_message_id=command.message_id,
        role=command.role,
        agent_name=command.display_name,
        content=command.content,
        content_type=command.content_type,
        original_content=original,
    )
    events: list[ConversationEvent] = [message]
    if command.translation_error is not None:
        error = command.translation_error
        text = notice(f"your message reached the user untranslated ({error.code}: {error.message})")
        events.append(_tell_agent(state, command.at, text, index=1))
    if command.role != "AGENT" or state.disconnect_requested:
        return events
    return [*events, *_rearm_timers(state, command.at, after=len(events))]


def _slash_command(state: ConversationState, command: ConnectMessageReceived, name: str) -> list[ConversationEvent]:
    """An agent's slash command: recorded, never relayed; its first action, or what the agent is told."""
    received = SlashCommandReceived(
        at=command.at, connect_message_id=command.message_id, agent_name=command.display_name, command=name
    )
    rule = rule_named(name, state.slash_commands)
    if rule is None:
        text = help_text(state.slash_commands) if name == HELP else unknown_command_text(name, state.slash_commands)
        return [received, _tell_agent(state, command.at, text, index=1)]
    first = SlashActionRequested(
        at=command.at, command=name, index=0, action=rule.actions[0], agent_name=command.display_name,
        client_token=_token(state, 1),
    )
    return [received, first]


def _tell_agent(state: ConversationState, at: float, text: str, index: int) -> UserMessageRequested:
    """A message only the agent sees (the worker is the chat's customer participant), written at `index`."""
    return UserMessageRequested(at=at, text=text, origin="notice", client_token=_token(state, index))


def _slash_action_starting(state: ConversationState, command: SlashActionStarting) -> list[ConversationEvent]:
    """Record the call before it is made; a call already started before a restart is not made again."""
    if _is_over(state):
        return []
    intent = _require_pending(state, command.effect_id, SlashActionRequested)
    if command.effect_id not in state.started_slash_actions:
        return [SlashActionStarted(at=command.at, request_seq=command.effect_id)]
    unknown = ErrorDetail(
        code="OutcomeUnknown",
        message=f"the service restarted during the call to {intent.action.value}: it may or may not have run,"
        " and is not run again",
    )
    return _slash_action_failed(state, command.at, command.effect_id, intent, unknown)


def _slash_content_found(state: ConversationState, command: SlashContentFound) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    intent = _require_pending(state, command.effect_id, SlashActionRequested)
    text, missing = fill_placeholders(command.template, state.context)
    if missing:
        lacking = ErrorDetail(
            code="MissingContext",
            message=f"content {intent.action.value!r} needs {', '.join(missing)}, which the conversation's context lacks",
        )
        return _slash_action_failed(state, command.at, command.effect_id, intent, lacking)
    shortened = with_short_links(text, command.short_links)
    sent = [
        SlashActionDone(at=command.at, request_seq=command.effect_id),
        SlashContentSent(
            at=command.at, command=intent.command, agent_name=intent.agent_name, text=shortened,
            original_text=text if shortened != text else None,
        ),
    ]
    # Content sent to the user counts as an agent message: the auto-disconnect timers start again.
    rearmed = [] if state.disconnect_requested else _rearm_timers(state, command.at, after=len(sent))
    events = [*sent, *rearmed]
    return [*events, *_next_slash_action(state, command.at, intent, index=len(events))]


def _slash_action_succeeded(state: ConversationState, command: SlashActionSucceeded) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    intent = _require_pending(state, command.effect_id, SlashActionRequested)
    done = SlashActionDone(at=command.at, request_seq=command.effect_id)
    told = _tell_agent(state, command.at, notice(f"{intent.command}: {intent.action.value} done"), index=1)
    return [done, told, *_next_slash_action(state, command.at, intent, index=2)]


def _slash_action_failure(state: ConversationState, command: SlashActionFailure) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    intent = _require_pending(state, command.effect_id, SlashActionRequested)
    return _slash_action_failed(state, command.at, command.effect_id, intent, command.error)


def _slash_action_failed(
    state: ConversationState, at: float, effect_id: int, intent: SlashActionRequested, error: ErrorDetail
) -> list[ConversationEvent]:
    """The agent is told why, and the command's remaining actions are not run (they may depend on it)."""
    failed = SlashActionFailed(at=at, request_seq=effect_id, code=error.code, message=error.message)
    text = notice(f"{intent.command}: {intent.action.value} failed ({error.code}): {error.message}")
    return [failed, _tell_agent(state, at, text, index=1)]


def _next_slash_action(
    state: ConversationState, at: float, intent: SlashActionRequested, index: int
) -> list[ConversationEvent]:
    rule = rule_named(intent.command, state.slash_commands)
    if rule is None or intent.index + 1 >= len(rule.actions):
        return []
    following = SlashActionRequested(
        at=at, command=intent.command, index=intent.index + 1, action=rule.actions[intent.index + 1],
        agent_name=intent.agent_name, client_token=_token(state, index),
    )
    return [following]


def _participant_joined(state: ConversationState, command: ParticipantJoinedReceived) -> list[ConversationEvent]:
    if _is_over(state) or command.role != "AGENT" or command.message_id in state.seen_connect_ids:
        return []
    _require_chat_or_leaving(state)
    return [AgentJoined(at=command.at, connect_message_id=command.message_id, agent_name=command.display_name)]


def _participant_left(state: ConversationState, command: ParticipantLeftReceived) -> list[ConversationEvent]:
    if _is_over(state) or command.role != "AGENT" or command.message_id in state.seen_connect_ids:
        return []
    _require_chat_or_leaving(state)
    return [AgentLeft(at=command.at, connect_message_id=command.message_id, agent_name=command.display_name)]


def _typing_received(state: ConversationState, command: TypingEventReceived) -> list[ConversationEvent]:
    if _is_over(state) or command.role != "AGENT":
        return []
    _require_chat(state)
    return [TypingReceived(at=command.at, agent_name=command.display_name)]


def _chat_ended_received(state: ConversationState, command: ChatEndedReceived) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_chat(state)
    if state.disconnect_requested:
        return _end(state, command.at, "UserLeft")
    if state.last_known_agent is not None:
        return _end(state, command.at, "AgentLeft")
    return _end(state, command.at, "Error", NO_AGENT_JOINED.message, NO_AGENT_JOINED)


def _user_message_acknowledged(state: ConversationState, command: UserMessageAcknowledged) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_pending(state, command.effect_id, UserMessageRequested)
    return [UserMessageSent(at=command.at, request_seq=command.effect_id, connect_message_id=command.connect_message_id)]


def _user_message_refused(state: ConversationState, command: UserMessageRefused) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    intent = _require_pending(state, command.effect_id, UserMessageRequested)
    return _message_refused(command.at, command.effect_id, intent, command.error)


def _message_refused(at: float, effect_id: int, intent: UserMessageRequested, error: ErrorDetail) -> list[ConversationEvent]:
    """The refusal recorded, and the bot told of it when the message was the bot's."""
    failed = UserMessageFailed(at=at, request_seq=effect_id, error=f"{error.code}: {error.message}")
    if intent.bot_message_id is None:
        return [failed]  # an auto-disconnect rule's message: the worker's own, not the bot's
    return [failed, MessageRefused(at=at, bot_message_id=intent.bot_message_id, code=error.code, message=error.message)]


def _user_message_too_long(state: ConversationState, command: UserMessageTooLong) -> list[ConversationEvent]:
    """Connect refused a piece as too long (a lower limit than the worker's): send it again in
    halves, in its place, each with its own intent and client token; a small piece is refused."""
    if _is_over(state):
        return []
    intent = _require_pending(state, command.effect_id, UserMessageRequested)
    size = utf8_size(intent.text)
    if size <= MIN_RESPLIT_BYTES or len(intent.text) < 2:
        return _message_refused(command.at, command.effect_id, intent, command.error)
    place = place_of(command.effect_id, intent)
    error = command.error
    return [
        UserMessageResplit(at=command.at, request_seq=command.effect_id, error=f"{error.code}: {error.message}"),
        *(
            UserMessageRequested(
                at=command.at,
                text=piece,
                client_token=_token(state, 1 + index),
                content_type=intent.content_type,
                bot_message_id=intent.bot_message_id,
                origin=intent.origin,
                place=(*place, index),
            )
            for index, piece in enumerate(split_message(intent.text, max(size // 2, MIN_LIMIT)))
        ),
    ]


def _typing_acknowledged(state: ConversationState, command: TypingAcknowledged) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_pending(state, command.effect_id, UserTypingRequested)
    return [UserTypingSent(at=command.at, request_seq=command.effect_id)]


def _context_update_acknowledged(state: ConversationState, command: ContextUpdateAcknowledged) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_pending(state, command.effect_id, ContextUpdateRequested)
    error = command.error
    if error is None:
        return [ContextUpdated(at=command.at, request_seq=command.effect_id)]
    return [
        ContextUpdated(at=command.at, request_seq=command.effect_id, error=f"{error.code}: {error.message}"),
        ContextUpdateRefused(at=command.at, code=error.code, message=error.message),
    ]


def _disconnect_acknowledged(state: ConversationState, command: DisconnectAcknowledged) -> list[ConversationEvent]:
    if _is_over(state):
        return []
    _require_pending(state, command.effect_id, DisconnectRequested)
    done = Disconnected(at=command.at, request_seq=command.effect_id)
    return [done, *_end(state, command.at, "UserLeft")]


def _require_pending(state: ConversationState, effect_id: int, kind: type[_Intent]) -> _Intent:
    intent = state.pending.get(effect_id)
    if not isinstance(intent, kind):
        raise Rejected("stale_report", f"no {kind.__name__} is pending as effect {effect_id}")
    return intent


def _timer_due(state: ConversationState, command: TimerDue) -> list[ConversationEvent]:
    timer = next((t for t in state.armed_timers if t.timer_id == command.timer_id), None)
    if timer is None or _is_over(state):
        return []  # cancelled, already fired, or the chat is over: a stale wake-up
    rule = timer.rule
    events: list[ConversationEvent] = [TimerFired(at=command.at, timer_id=timer.timer_id, rule=rule)]
    if rule.user_message:
        events.append(UserNotified(at=command.at, text=rule.user_message, timer_id=timer.timer_id))
    if rule.agent_message:
        events.append(
            UserMessageRequested(
                at=command.at,
                text=rule.agent_message,
                origin="auto-disconnect",
                client_token=_token(state, len(events)),
            )
        )
    if rule.kind == "DISCONNECT" and not state.disconnect_requested:
        for other in state.armed_timers:
            if other.timer_id != timer.timer_id:
                events.append(TimerCancelled(at=command.at, timer_id=other.timer_id))
        events.append(DisconnectRequested(at=command.at, cause="inactivity", client_token=_token(state, len(events))))
    return events


def _cancel_timers(state: ConversationState, at: float) -> list[ConversationEvent]:
    return [TimerCancelled(at=at, timer_id=timer.timer_id) for timer in state.armed_timers]


def _rearm_timers(state: ConversationState, at: float, after: int) -> list[ConversationEvent]:
    events = _cancel_timers(state, at)
    for rule in state.auto_disconnect:
        seq = _seq(state, after + len(events))
        events.append(
            TimerArmed(
                at=at,
                timer_id=timer_id(state.conversation_id, seq),
                due_at=at + rule.seconds_after_agent_message,
                rule=rule,
            )
        )
    return events


def _end(
    state: ConversationState,
    at: float,
    reason: SessionEndReason,
    detail: str | None = None,
    error: ErrorDetail | None = None,
) -> list[ConversationEvent]:
    """ChatEnded and the hand-back; armed timers are cancelled first so the log says so."""
    if error is not None and state.chat is not None:
        # The bot is told the error's message: it must never carry the chat's credential.
        token = state.chat.participant_token
        error = ErrorDetail(code=error.code, message=error.message.replace(token, "<redacted>"))
    return [
        *_cancel_timers(state, at),
        *_unconfirmed_messages(state, at),
        ChatEnded(at=at, reason=reason, detail=detail, error=error),
        ReturnedToBot(
            at=at,
            session_end_reason=reason,
            last_known_agent=state.last_known_agent,
            participant_id=None if state.chat is None else state.chat.participant_id,
            context=state.context,
            error=error,
            served_by=state.target,
        ),
    ]


def _unconfirmed_messages(state: ConversationState, at: float) -> list[ConversationEvent]:
    """The bot is told of each of its messages Connect had not confirmed when the chat ended (once
    per message, however many pieces were pending): it may or may not have reached the agent, and
    it will never be sent now."""
    kinds = (UserMessageRequested, UserMessageTranslationRequested)
    pending = [intent for _, intent in sorted(state.pending.items()) if isinstance(intent, kinds)]
    bot_message_ids = dict.fromkeys(i.bot_message_id for i in pending if i.bot_message_id is not None)
    return [
        MessageRefused(at=at, bot_message_id=bot_message_id, code=CHAT_ENDED_FIRST.code, message=CHAT_ENDED_FIRST.message)
        for bot_message_id in bot_message_ids
    ]


_HANDLERS: dict[type, Callable[[ConversationState, Any], list[ConversationEvent]]] = {
    SlashActionStarting: _slash_action_starting,
    SlashContentFound: _slash_content_found,
    SlashActionSucceeded: _slash_action_succeeded,
    SlashActionFailure: _slash_action_failure,
    UserMessageTranslationDone: _user_message_translation_done,
    Transfer: _transfer,
    UserSays: _user_says,
    UserTyping: _user_typing,
    UserLeaves: _user_leaves,
    ContextChanged: _context_changed,
    SwitchRegion: _switch_region,
    ChatLeaveDone: _chat_leave_done,
    ChatStartSucceeded: _chat_start_succeeded,
    ChatStartFailure: _chat_start_failure,
    ConnectionEstablished: _connection_established,
    ConnectionTokenReceived: _connection_token_received,
    ChatFailed: _chat_failed,
    ConnectMessageReceived: _connect_message,
    ParticipantJoinedReceived: _participant_joined,
    ParticipantLeftReceived: _participant_left,
    TypingEventReceived: _typing_received,
    ChatEndedReceived: _chat_ended_received,
    UserMessageAcknowledged: _user_message_acknowledged,
    UserMessageRefused: _user_message_refused,
    UserMessageTooLong: _user_message_too_long,
    TypingAcknowledged: _typing_acknowledged,
    ContextUpdateAcknowledged: _context_update_acknowledged,
    DisconnectAcknowledged: _disconnect_acknowledged,
    TimerDue: _timer_due,
}
