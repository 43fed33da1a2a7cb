"""What the actor shell must do at Connect: the intents that have no done yet.

`pending_effects(state)` lists them in the order they must be performed (one
at a time, in order). Each names its intent by `effect_id`, the stream sequence
of the intent event; the shell reports the outcome with that id. The chat's
contact id and participant token are on `state.chat`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from events.conversation_events import ConnectTarget, TranslationRule
from events.slash_commands import SlashAction


class Effect(msgspec.Struct, frozen=True, kw_only=True):
    effect_id: int


class StartChat(Effect):
    """`transcript_until`: after a failover move, the seq up to which the conversation so far is read
    from the log and carried in the new chat's contact attributes (None: a first start)."""

    client_token: str
    target: ConnectTarget
    display_name: str
    context: dict[str, Any]
    transcript_until: int | None = None


class LeaveChat(Effect):
    """Read what the agent of the chat a failover move left behind wrote after `after_id` (report each
    item as it came), tell them, and leave the chat: once, without retries beyond the client's own (a
    region that is down is not waited for); report `ChatLeaveDone`."""

    client_token: str
    target: ConnectTarget
    participant_token: str
    connection_token: str | None
    after_id: str | None = None

    def __repr__(self) -> str:
        return f"LeaveChat(effect_id={self.effect_id!r}, target={self.target!r}, tokens='<redacted>')"


class SendMessage(Effect):
    client_token: str
    text: str
    content_type: str


class SendTyping(Effect):
    client_token: str


class UpdateContactAttributes(Effect):
    context: dict[str, Any]


class DisconnectParticipant(Effect):
    client_token: str


class RunSlashAction(Effect):
    """Run one action of an agent's slash command: find the content item `action.value` of the
    conversation's worker (report `SlashContentFound`), or call the connector whose alias is
    `action.value` with `context` as its input (report `SlashActionStarting` first, then the outcome)."""

    action: SlashAction
    worker_id: str
    context: dict[str, Any]
    client_token: str


class TranslateUserMessage(Effect):
    """Translate a bot's message with the ingress connector; report `UserMessageTranslationDone`."""

    rule: TranslationRule
    text: str
    client_token: str


AnyEffect = StartChat | LeaveChat | SendMessage | SendTyping | UpdateContactAttributes | DisconnectParticipant | RunSlashAction | TranslateUserMessage
