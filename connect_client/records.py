"""What goes into and comes out of the Amazon Connect calls, as frozen values.

Tokens are fields like any other but are left out of `repr`, so a record in a
log line or a traceback never shows one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ChatStart:
    """StartChatContact's request. `client_token` makes a retry harmless:
    derive it from the intent event, never from a fresh uuid."""

    instance_id: str
    contact_flow_id: str
    display_name: str
    client_token: str
    attributes: dict[str, str] = field(default_factory=dict)
    initial_message: str | None = None
    chat_duration_minutes: int | None = None
    supported_content_types: tuple[str, ...] = ("text/plain", "text/markdown")


@dataclass(frozen=True, slots=True)
class StartedChat:
    contact_id: str
    participant_id: str
    participant_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ParticipantConnection:
    """CreateParticipantConnection's answer: the socket to open (good until
    `websocket_expiry`) and the token for SendMessage and friends (good until
    `connection_expiry`)."""

    websocket_url: str = field(repr=False)
    websocket_expiry: datetime
    connection_token: str = field(repr=False)
    connection_expiry: datetime


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Connect's id for a sent message (the same id its echo on the socket and
    the transcript carry) and when Connect took it."""

    id: str
    absolute_time: str


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """A queue's current numbers on the CHAT channel. `oldest_contact_age_seconds`
    is None when the queue is empty."""

    agents_online: int
    agents_available: int
    contacts_in_queue: int
    oldest_contact_age_seconds: float | None
