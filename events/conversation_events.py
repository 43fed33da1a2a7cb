"""What happens in a conversation: the events of its stream, `conversation-<id>`.

Every event is a frozen msgspec Struct tagged by its class name (the stable
tag, also the store's `type` column) and carries `v`, the schema version of its
type, and `at`, when it happened (epoch seconds, from the command). A type whose
shape changes raises its `v` and gets an upgrader in `events/upgrades.py`.

Intent and done: an effect that must reach the outside world is an intent event
(`...Requested`, with a deterministic `client_token`) and a done event that
names the intent by the stream sequence it was written at (`request_seq`).
"""

from __future__ import annotations

from typing import Any, Literal, Union

import msgspec

from events.long_messages import MAX_MESSAGE_BYTES
from events.slash_commands import SlashAction, SlashCommandRule

Role = Literal["AGENT", "CUSTOMER", "SYSTEM", "CUSTOM_BOT", "SUPERVISOR"]
# What a failover order does to a live conversation (events/worker.py's FailoverMode).
FailoverMode = Literal["drain", "move"]
SessionEndReason = Literal["UserLeft", "AgentLeft", "Error"]
AutoDisconnectKind = Literal["WARNING", "DISCONNECT"]


class ConnectTarget(msgspec.Struct, frozen=True, kw_only=True):
    """Where a chat is started: the worker's primary region or a failover region (named), the most
    a message sent there may take in UTF-8 bytes (the worker's `MaxMessageBytes`, else Connect's),
    and `secret`, the vault reference of the cross-account role its calls are signed with (that
    region's `Secret`; None in logs written before roles were assumed: the service's own credentials)."""

    region: str
    instance_id: str
    contact_flow_id: str
    failover_region: str | None = None
    max_message_bytes: int = MAX_MESSAGE_BYTES
    secret: str | None = None


class AutoDisconnectRule(msgspec.Struct, frozen=True, kw_only=True):
    """One of the worker's AutoDisconnectEvents, as the conversation keeps it."""

    kind: AutoDisconnectKind
    seconds_after_agent_message: int
    user_message: str | None = None
    agent_message: str | None = None


class TranslationRule(msgspec.Struct, frozen=True, kw_only=True):
    """The worker's IngressTranslationConfig (user to agent) or EgressTranslationConfig (agent to user)."""

    connector_alias: str
    source_language_code: str
    target_language_code: str


class ShortLinkRule(msgspec.Struct, frozen=True, kw_only=True):
    """The worker's ShortLinkConfig (Type Squeeze): the shortening API and the vault reference of its key."""

    api: str
    api_key_ref: str


class ErrorDetail(msgspec.Struct, frozen=True, kw_only=True):
    """Why Connect refused something, or why a chat ended in error: a stable `code` (Connect's
    error name, or one of ours such as ChatSocketGaveUp) and a `message` for people. Never a token."""

    code: str
    message: str


class ConversationEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=True):
    """Base of every conversation event; the tag is the class name, never rename one."""

    v: int = 1
    at: float


class Transferred(ConversationEvent):
    """A bot handed the conversation over to a worker; the first event of every stream."""

    worker_id: str
    bot_name: str
    display_name: str
    context: dict[str, Any]
    deliver_to: str
    target: ConnectTarget
    initial_connection_message: str
    auto_disconnect: tuple[AutoDisconnectRule, ...] = ()
    client_id: str | None = None  # the API client that handed it over; None in logs written before clients
    slash_commands: tuple[SlashCommandRule, ...] = ()
    ingress_translation: TranslationRule | None = None
    egress_translation: TranslationRule | None = None
    short_links: ShortLinkRule | None = None
    failover_order: int = 0  # the worker's failover order in force at the transfer (events/worker.py)


class ChatStartRequested(ConversationEvent):
    """Intent: StartChatContact at `target`. `transcript_until`: the chat starts again after a failover
    move, with the conversation so far in its contact attributes, read from the log up to that seq (the
    end of the move's decision, its leave of the old chat included)."""

    target: ConnectTarget
    client_token: str
    transcript_until: int | None = None


class ChatStarted(ConversationEvent):
    """Done: Connect answered StartChatContact. The participant token is a credential."""

    request_seq: int
    contact_id: str
    participant_id: str
    participant_token: str

    def __repr__(self) -> str:
        return (
            f"ChatStarted(request_seq={self.request_seq!r}, contact_id={self.contact_id!r}, "
            f"participant_id={self.participant_id!r}, participant_token='<redacted>', at={self.at!r})"
        )


class ChatStartFailed(ConversationEvent):
    """Done: Connect refused StartChatContact."""

    request_seq: int
    error: str


class ConnectionOpened(ConversationEvent):
    """The participant WebSocket is subscribed (again, after a reconnect). The connection token is a
    credential, kept so that a chat that ends while the service is down can still be read
    (GetTranscript) after a restart; None in logs written before it was kept."""

    connection_token: str | None = None

    def __repr__(self) -> str:
        return f"ConnectionOpened(connection_token='<redacted>', at={self.at!r})"


class ConnectionTokenKept(ConversationEvent):
    """A new connection's token, kept as soon as Connect gave it, before its socket was open (then
    `ConnectionOpened` carries the same token): should the service stop before the socket serves and
    the chat end meanwhile, a restart still reads the chat's last items with it."""

    connection_token: str

    def __repr__(self) -> str:
        return f"ConnectionTokenKept(connection_token='<redacted>', at={self.at!r})"


class ConnectionRenewed(ConversationEvent):
    """The socket was renewed before its expiry (make before break): a new connection token."""

    connection_token: str

    def __repr__(self) -> str:
        return f"ConnectionRenewed(connection_token='<redacted>', at={self.at!r})"


class UserMessageRequested(ConversationEvent):
    """Intent: SendMessage as the customer participant.

    `origin` is "user" for what the user said (with the bot's message id),
    "auto-disconnect" for an auto-disconnect rule's AgentMessage, and "notice" for what the
    worker itself tells the agent (a slash command's list or outcome, a translation that failed).
    """

    text: str
    client_token: str
    content_type: str = "text/plain"
    bot_message_id: str | None = None
    origin: Literal["user", "auto-disconnect", "notice"] = "user"
    # Where it is sent among the pending messages: empty for (its own seq); a smaller piece of a
    # piece Connect refused as too long takes the refused one's place plus its index, a translated
    # message's pieces their translation intent's (see `place_of`).
    place: tuple[int, ...] = ()


class UserMessageTranslationRequested(ConversationEvent):
    """Intent: translate the bot's message (the worker's IngressTranslationConfig) before it is sent."""

    bot_message_id: str
    text: str
    content_type: str
    client_token: str


class UserMessageTranslated(ConversationEvent):
    """Done: the translation, or why there is none (`error`: the original is sent as it is)."""

    request_seq: int
    translated: str | None = None
    error: str | None = None


class MessageTranslated(ConversationEvent):
    """For the bot: its message `bot_message_id` reached the agent as `translated`."""

    bot_message_id: str
    original: str
    translated: str


class UserMessageSent(ConversationEvent):
    """Done: Connect accepted the message and gave it its id."""

    request_seq: int
    connect_message_id: str


class UserMessageFailed(ConversationEvent):
    """Done: Connect refused the message for good (not retried)."""

    request_seq: int
    error: str


class UserMessageResplit(ConversationEvent):
    """Done: Connect refused the piece as too long; the smaller pieces requested right after it
    (each a `UserMessageRequested` in its place) carry its text instead."""

    request_seq: int
    error: str


class MessageRefused(ConversationEvent):
    """For the bot: Connect refused (a piece of) the bot's message `bot_message_id` for good."""

    bot_message_id: str
    code: str
    message: str


class UserTypingRequested(ConversationEvent):
    """Intent: SendEvent typing."""

    client_token: str


class UserTypingSent(ConversationEvent):
    """Done: the typing event reached Connect (or was given up)."""

    request_seq: int


class AgentMessageReceived(ConversationEvent, kw_only=True):
    """A message for the user from the agent, or from the contact flow (role SYSTEM/CUSTOM_BOT).

    v2 renamed v1's `text` to `content`, as Connect names it.
    """

    v: int = 2
    connect_message_id: str
    role: Role
    agent_name: str
    content: str  # what the user gets: translated, its links shortened, when the worker says so
    content_type: str = "text/plain"
    original_content: str | None = None  # as written at Connect, when `content` differs from it


class AgentJoined(ConversationEvent):
    connect_message_id: str
    agent_name: str


class AgentLeft(ConversationEvent):
    connect_message_id: str
    agent_name: str


class TypingReceived(ConversationEvent):
    """The agent is typing."""

    agent_name: str


class SlashCommandReceived(ConversationEvent):
    """An agent's message that is a slash command: recorded, never relayed to the user as text."""

    connect_message_id: str
    agent_name: str
    command: str


class SlashActionRequested(ConversationEvent):
    """Intent: action `index` of the agent's command `command`, run in order after the one before."""

    command: str
    index: int
    action: SlashAction
    agent_name: str
    client_token: str


class SlashActionStarted(ConversationEvent):
    """An `executeApi` action's call is about to be made. A restart that finds this without a done
    does not make the call again (SES SendEmail, say, has no idempotency token): at most once."""

    request_seq: int


class SlashActionDone(ConversationEvent):
    """Done: the action ran (its content sent, its connector answered)."""

    request_seq: int


class SlashActionFailed(ConversationEvent):
    """Done: the action did not run, or its outcome is unknown; the agent is told, the command stops."""

    request_seq: int
    code: str
    message: str


class SlashContentSent(ConversationEvent):
    """For the bot: a content item an agent's command sends to the user, its placeholders filled."""

    command: str
    agent_name: str
    text: str
    original_text: str | None = None  # the filled item as written, when `text` has its links shortened


class UserNotified(ConversationEvent):
    """A message from the worker itself for the user: an auto-disconnect rule's UserMessage (with its
    timer), or that a failover moved the conversation to another region."""

    text: str
    timer_id: str | None = None


class ContextUpdateRequested(ConversationEvent):
    """Intent: UpdateContactAttributes with the bot's new context (no ClientToken in that API)."""

    context: dict[str, Any]


class ContextUpdated(ConversationEvent):
    """Done: the attributes reached Connect, or `error` says why not (the context is kept anyway)."""

    request_seq: int
    error: str | None = None


class ContextUpdateRefused(ConversationEvent):
    """For the bot: Connect refused its context update (UpdateContactAttributes) for good."""

    code: str
    message: str


class DisconnectRequested(ConversationEvent):
    """Intent: DisconnectParticipant, because the user left or went silent ("inactivity")."""

    cause: Literal["user", "inactivity"]
    client_token: str


class Disconnected(ConversationEvent):
    """Done: DisconnectParticipant answered (or the chat was already gone)."""

    request_seq: int


class TimerArmed(ConversationEvent):
    """An auto-disconnect rule will come due at `due_at` unless cancelled first."""

    timer_id: str
    due_at: float
    rule: AutoDisconnectRule


class TimerFired(ConversationEvent):
    timer_id: str
    rule: AutoDisconnectRule


class TimerCancelled(ConversationEvent):
    timer_id: str


class FailoverSwitched(ConversationEvent):
    """The conversation took the worker's failover order `order` (its seq on the worker stream; 0 in
    logs written before orders were numbered), once. `moved`: its chat starts again at `target` (a
    chat not yet started, or any chat with mode "move"); otherwise it finishes where it is, and
    `target` is that same place. `previous`: where it was (None in logs written before it was kept)."""

    target: ConnectTarget
    order: int = 0
    mode: FailoverMode = "move"
    moved: bool = True
    previous: ConnectTarget | None = None


class ChatLeaveRequested(ConversationEvent):
    """Intent: after a failover move, read what the agent left behind at `target` wrote after
    `after_id` (the last item recorded from that chat), tell them, and leave the chat (GetTranscript,
    SendMessage, DisconnectParticipant), once, where that region still answers. Its participant and
    connection tokens are credentials: kept out of `repr` and exports."""

    target: ConnectTarget
    contact_id: str
    participant_id: str
    participant_token: str
    connection_token: str | None
    client_token: str
    after_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"ChatLeaveRequested(target={self.target!r}, contact_id={self.contact_id!r}, "
            f"participant_id={self.participant_id!r}, participant_token='<redacted>', "
            f"connection_token='<redacted>', client_token={self.client_token!r}, at={self.at!r})"
        )


class ChatLeft(ConversationEvent):
    """Done: the chat left behind was left, or `error` says why it could not be (the region is down)."""

    request_seq: int
    error: str | None = None


class ChatEnded(ConversationEvent):
    """The chat at Connect is over; `detail` and `error` say more when the reason is Error."""

    reason: SessionEndReason
    detail: str | None = None
    error: ErrorDetail | None = None  # None in logs written before it was recorded


class ReturnedToBot(ConversationEvent):
    """The hand-back: the last event of every stream. `events.handback` turns it into the bot's context."""

    session_end_reason: SessionEndReason
    last_known_agent: str | None
    participant_id: str | None
    context: dict[str, Any]
    error: ErrorDetail | None = None  # why, when the reason is Error
    served_by: ConnectTarget | None = None  # the Connect target that served it last (None in older logs)


AnyConversationEvent = Union[
    Transferred,
    ChatStartRequested,
    ChatStarted,
    ChatStartFailed,
    ConnectionOpened,
    ConnectionTokenKept,
    ConnectionRenewed,
    UserMessageRequested,
    UserMessageSent,
    UserMessageFailed,
    UserMessageResplit,
    MessageRefused,
    UserMessageTranslationRequested,
    UserMessageTranslated,
    MessageTranslated,
    UserTypingRequested,
    UserTypingSent,
    AgentMessageReceived,
    AgentJoined,
    AgentLeft,
    TypingReceived,
    UserNotified,
    SlashCommandReceived,
    SlashActionRequested,
    SlashActionStarted,
    SlashActionDone,
    SlashActionFailed,
    SlashContentSent,
    ContextUpdateRequested,
    ContextUpdated,
    ContextUpdateRefused,
    DisconnectRequested,
    Disconnected,
    TimerArmed,
    TimerFired,
    TimerCancelled,
    FailoverSwitched,
    ChatLeaveRequested,
    ChatLeft,
    ChatEnded,
    ReturnedToBot,
]

# What the bot is told, in stream order, each identified by (conversation id, seq) so it can
# deduplicate: the log itself is the outbox of the bot side (webhook or pull stream).
FOR_THE_BOT: tuple[type[ConversationEvent], ...] = (
    AgentMessageReceived,
    AgentJoined,
    AgentLeft,
    TypingReceived,
    UserNotified,
    SlashContentSent,
    MessageTranslated,
    MessageRefused,
    ContextUpdateRefused,
    ReturnedToBot,
)
