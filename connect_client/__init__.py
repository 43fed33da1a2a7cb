"""The Amazon Connect adapter: the customer's side of the wire, typed.

`RegionClients` holds one region's boto3 clients and their typed calls
(`contacts`, `participant`) and how the region is doing (`health`, a
`RegionHealth`); `ChatSocket` keeps one chat's participant
WebSocket alive and hands its items to an owner; `parse_frame` and
`split_message` (the core's, from `events.long_messages`) are pure. See
README.md beside this file.
"""

from connect_client.chat_socket import (
    ChatSocket,
    SocketConnected,
    SocketCredentials,
    SocketReconnecting,
    SocketSettings,
    SocketState,
    SocketStopped,
    StopReason,
)
from connect_client.contacts import Contacts
from connect_client.errors import (
    AccessDenied,
    ChatEnded,
    ConnectError,
    ContentTooLong,
    CredentialsRefused,
    InvalidRequest,
    MessageTooLong,
    NotFound,
    PermanentError,
    RetryableError,
    Throttled,
)
from connect_client.frames import (
    ChatItem,
    Frame,
    Heartbeat,
    ItemKind,
    MalformedFrame,
    OtherFrame,
    PingAnswer,
    SubscribeAnswer,
    parse_frame,
)
from connect_client.health import HealthSnapshot, RegionHealth
from connect_client.long_messages import DEFAULT_MESSAGE_LIMIT, refuse_long_message
from connect_client.participant import Participant
from connect_client.records import ChatStart, ParticipantConnection, QueueMetrics, SentMessage, StartedChat
from connect_client.region import ClientSettings, RegionClients, static_session
from events.long_messages import split_message
from retry import Backoff

__all__ = [
    "DEFAULT_MESSAGE_LIMIT",
    "AccessDenied",
    "Backoff",
    "ChatEnded",
    "ChatItem",
    "ChatSocket",
    "ChatStart",
    "ClientSettings",
    "ConnectError",
    "Contacts",
    "Frame",
    "Heartbeat",
    "HealthSnapshot",
    "ContentTooLong",
    "CredentialsRefused",
    "InvalidRequest",
    "ItemKind",
    "MalformedFrame",
    "MessageTooLong",
    "NotFound",
    "OtherFrame",
    "Participant",
    "ParticipantConnection",
    "PermanentError",
    "PingAnswer",
    "QueueMetrics",
    "RegionClients",
    "RegionHealth",
    "RetryableError",
    "SentMessage",
    "SocketConnected",
    "SocketCredentials",
    "SocketReconnecting",
    "SocketSettings",
    "SocketState",
    "SocketStopped",
    "StartedChat",
    "StopReason",
    "SubscribeAnswer",
    "Throttled",
    "parse_frame",
    "refuse_long_message",
    "split_message",
    "static_session",
]
