"""What is asked of a conversation, or what the outside world reports to it.

Commands are never stored; `decide` turns them into events. Every command
carries `at`, the time it arrived (epoch seconds): the core reads no clock.
Reports of an effect's outcome name the effect by `effect_id`, the stream
sequence of its intent event (`Effect.effect_id`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from events.conversation_events import (
    AutoDisconnectRule,
    ConnectTarget,
    ErrorDetail,
    FailoverMode,
    Role,
    ShortLinkRule,
    TranslationRule,
)
from events.slash_commands import SlashCommandRule


class Command(msgspec.Struct, frozen=True, kw_only=True):
    at: float


class Transfer(Command, kw_only=True):
    """A bot hands the conversation to a worker (the worker's settings resolved by the caller).

    `user_name` is the name the bot set in context for the customer, if any.
    """

    worker_id: str
    bot_name: str
    user_name: str | None = None
    context: dict[str, Any] = {}
    deliver_to: str
    target: ConnectTarget
    initial_connection_message: str
    auto_disconnect: tuple[AutoDisconnectRule, ...] = ()
    client_id: str | None = None
    slash_commands: tuple[SlashCommandRule, ...] = ()
    ingress_translation: TranslationRule | None = None
    egress_translation: TranslationRule | None = None
    short_links: ShortLinkRule | None = None
    failover_order: int = 0


class SlashActionStarting(Command):
    """The shell is about to call an `executeApi` action's connector: recorded first (at most once)."""

    effect_id: int


class SlashContentFound(Command):
    """A `content` action's item, as stored (its placeholders not yet filled), and the short form of each
    link of the filled text that the shell could have (ShortLinkConfig; empty without it)."""

    effect_id: int
    template: str
    short_links: dict[str, str] = {}


class SlashActionSucceeded(Command):
    effect_id: int


class SlashActionFailure(Command):
    """The action could not run: no such content item or connector, or the connector failed."""

    effect_id: int
    error: ErrorDetail


class UserMessageTranslationDone(Command):
    """The ingress translation of a bot's message: `translated`, or the `error` that stopped it."""

    effect_id: int
    translated: str | None = None
    error: ErrorDetail | None = None


class UserSays(Command):
    bot_message_id: str
    text: str
    content_type: str = "text/plain"


class UserTyping(Command):
    pass


class UserLeaves(Command):
    pass


class ContextChanged(Command):
    context: dict[str, Any]


class SwitchRegion(Command):
    """The worker's failover order `order`: new transfers start at `target` now. A chat not yet
    started starts there instead; a started one moves there with mode "move", and stays where it
    is with "drain"."""

    target: ConnectTarget
    order: int = 0
    mode: FailoverMode = "move"


class ChatLeaveDone(Command):
    """The chat left behind by a failover move was left, or `error` says why not."""

    effect_id: int
    error: ErrorDetail | None = None


class ChatStartSucceeded(Command):
    effect_id: int
    contact_id: str
    participant_id: str
    participant_token: str

    def __repr__(self) -> str:
        return (
            f"ChatStartSucceeded(effect_id={self.effect_id!r}, contact_id={self.contact_id!r}, "
            f"participant_id={self.participant_id!r}, participant_token='<redacted>', at={self.at!r})"
        )


class ChatStartFailure(Command):
    effect_id: int
    error: ErrorDetail


class ConnectionEstablished(Command):
    """The socket is subscribed on a new connection; `renewed`: a renewal before expiry, not a
    recovery. The connection token is a credential, kept out of `repr`."""

    connection_token: str
    renewed: bool = False

    def __repr__(self) -> str:
        return f"ConnectionEstablished(connection_token='<redacted>', renewed={self.renewed!r}, at={self.at!r})"


class ConnectionTokenReceived(Command):
    """Connect gave a new connection (CreateParticipantConnection), its socket not yet open. The
    connection token is a credential, kept out of `repr`."""

    connection_token: str

    def __repr__(self) -> str:
        return f"ConnectionTokenReceived(connection_token='<redacted>', at={self.at!r})"


class ChatFailed(Command):
    """The chat broke at Connect mid-way (for instance a reconnect answered 403): hand back with Error."""

    error: ErrorDetail


class ConnectMessageReceived(Command):
    """An `aws/chat` MESSAGE item (from the socket or GetTranscript). `content` is what the user is to
    get: when the core's `egress_plan` asked for it, the shell has translated it and shortened its
    links first, and `original_content` is the text as written (`translation_error`: why the
    original stands in for the translation)."""

    message_id: str
    role: Role
    display_name: str
    content: str
    content_type: str = "text/plain"
    original_content: str | None = None
    translation_error: ErrorDetail | None = None


class ParticipantJoinedReceived(Command):
    message_id: str
    role: Role
    display_name: str


class ParticipantLeftReceived(Command):
    message_id: str
    role: Role
    display_name: str


class TypingEventReceived(Command):
    role: Role
    display_name: str


class ChatEndedReceived(Command):
    message_id: str


class UserMessageAcknowledged(Command):
    effect_id: int
    connect_message_id: str


class UserMessageRefused(Command):
    effect_id: int
    error: ErrorDetail


class UserMessageTooLong(Command):
    """Connect refused the message (piece) as too long: send it again in smaller pieces."""

    effect_id: int
    error: ErrorDetail


class TypingAcknowledged(Command):
    effect_id: int


class ContextUpdateAcknowledged(Command):
    effect_id: int
    error: ErrorDetail | None = None


class DisconnectAcknowledged(Command):
    effect_id: int


class TimerDue(Command):
    timer_id: str


AnyCommand = (
    Transfer
    | UserSays
    | UserTyping
    | UserLeaves
    | ContextChanged
    | SwitchRegion
    | ChatLeaveDone
    | ChatStartSucceeded
    | ChatStartFailure
    | ConnectionEstablished
    | ConnectionTokenReceived
    | ChatFailed
    | ConnectMessageReceived
    | ParticipantJoinedReceived
    | ParticipantLeftReceived
    | TypingEventReceived
    | ChatEndedReceived
    | UserMessageAcknowledged
    | UserMessageRefused
    | UserMessageTooLong
    | TypingAcknowledged
    | ContextUpdateAcknowledged
    | DisconnectAcknowledged
    | TimerDue
    | SlashActionStarting
    | SlashContentFound
    | SlashActionSucceeded
    | SlashActionFailure
    | UserMessageTranslationDone
)
