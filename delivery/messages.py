"""The JSON a bot is told for one event of its conversation, the same by webhook and pull stream.

    bot_message(stored)  # an AgentMessageReceived at seq 7 of conversation-conv-42
    # {'Id': 'conv-42:7', 'ConversationId': 'conv-42', 'Seq': 7, 'Type': 'AgentMessage',
    #  'At': '2026-11-24T08:31:24.000Z', 'Text': 'Hello', 'ContentType': 'text/plain',
    #  'AgentName': 'Ana', 'Role': 'AGENT', 'ConnectMessageId': 'm-1'}
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events import decode, handback, redact
from events.conversation_events import (
    FOR_THE_BOT,
    AgentJoined,
    AgentLeft,
    AgentMessageReceived,
    ContextUpdateRefused,
    ConversationEvent,
    MessageRefused,
    MessageTranslated,
    ReturnedToBot,
    SlashContentSent,
    TypingReceived,
    UserNotified,
)
from store.conversations import STREAM_PREFIX
from store.records import StoredEvent

BOT_EVENT_TYPES = frozenset(kind.__name__ for kind in FOR_THE_BOT)
HANDBACK_TYPE = ReturnedToBot.__name__


class NotForTheBot(ValueError):
    """The stored event is not one the bot is told of (see `is_for_the_bot`)."""


def is_for_the_bot(stored: StoredEvent) -> bool:
    return stored.stream.startswith(STREAM_PREFIX) and stored.type in BOT_EVENT_TYPES


def conversation_id_of(stored: StoredEvent) -> str:
    return stored.stream.removeprefix(STREAM_PREFIX)


def delivery_id(conversation_id: str, seq: int) -> str:
    """What the bot deduplicates on: stable across retries, restarts and both channels."""
    return f"{conversation_id}:{seq}"


def bot_message(stored: StoredEvent) -> dict[str, Any]:
    """The message for one stored conversation event of a `FOR_THE_BOT` type; tokens redacted."""
    if not is_for_the_bot(stored):
        raise NotForTheBot(f"{stored.stream} seq {stored.seq}: {stored.type} is not told to the bot")
    event = redact(decode(stored.data))
    conversation_id = conversation_id_of(stored)
    kind, fields = _type_and_fields(event)
    return {
        "Id": delivery_id(conversation_id, stored.seq),
        "ConversationId": conversation_id,
        "Seq": stored.seq,
        "Type": kind,
        "At": datetime.fromtimestamp(event.at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        **fields,
    }


def _type_and_fields(event: ConversationEvent) -> tuple[str, dict[str, Any]]:
    match event:
        case AgentMessageReceived():
            return "AgentMessage", {
                "Text": event.content,
                "ContentType": event.content_type,
                "AgentName": event.agent_name,
                "Role": event.role,
                "ConnectMessageId": event.connect_message_id,
                **({} if event.original_content is None else {"OriginalText": event.original_content}),
            }
        case SlashContentSent():
            # What an agent's slash command sends the user: an agent message, with no Connect item of its own.
            return "AgentMessage", {
                "Text": event.text,
                "ContentType": "text/plain",
                "AgentName": event.agent_name,
                "Role": "AGENT",
                "ConnectMessageId": None,
                "SlashCommand": event.command,
                **({} if event.original_text is None else {"OriginalText": event.original_text}),
            }
        case AgentJoined():
            return "AgentJoined", {"AgentName": event.agent_name}
        case AgentLeft():
            return "AgentLeft", {"AgentName": event.agent_name}
        case TypingReceived():
            return "AgentTyping", {"AgentName": event.agent_name}
        case UserNotified():
            return "UserNotified", {"Text": event.text}
        case MessageTranslated():
            return "MessageTranslated", {
                "MessageId": event.bot_message_id,
                "Text": event.translated,
                "OriginalText": event.original,
            }
        case MessageRefused():
            return "MessageRefused", {"MessageId": event.bot_message_id, "Code": event.code, "Message": event.message}
        case ContextUpdateRefused():
            return "ContextUpdateRefused", {"Code": event.code, "Message": event.message}
        case ReturnedToBot():
            return "ReturnedToBot", {"Context": handback(event)}
    raise NotForTheBot(f"{type(event).__name__} is not told to the bot")
