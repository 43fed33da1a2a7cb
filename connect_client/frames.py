"""What arrives on the participant WebSocket, as typed values.

`parse_frame` turns one text frame into a `SubscribeAnswer`, `Heartbeat`,
`PingAnswer`, `ChatItem`, `OtherFrame` (a topic we do not use) or
`MalformedFrame`; it never raises. GetTranscript's items are decoded into
the same `ChatItem` (connect_client/participant.py), so items from the socket
and from the transcript are deduplicated downstream by the same `id`.

    >>> parse_frame('{"topic":"aws/heartbeat"}')
    Heartbeat()
    >>> item = parse_frame(chat_frame_text)
    >>> item.kind is ItemKind.MESSAGE, item.content
    (True, 'Hello')
"""

from __future__ import annotations

import enum
import json

import msgspec

EVENT = "application/vnd.amazonaws.connect.event."
_EXCERPT_CHARS = 80


class ItemKind(enum.Enum):
    """What a chat item is, from its Type and ContentType."""

    MESSAGE = "message"
    ATTACHMENT = "attachment"
    TYPING = "typing"
    PARTICIPANT_JOINED = "participant joined"
    PARTICIPANT_LEFT = "participant left"
    CHAT_ENDED = "chat ended"
    TRANSFER_SUCCEEDED = "transfer succeeded"
    TRANSFER_FAILED = "transfer failed"
    CONNECTION_ACKNOWLEDGED = "connection acknowledged"
    DELIVERED = "delivered receipt"
    READ = "read receipt"
    OTHER_EVENT = "other event"


_EVENT_KINDS = {
    EVENT + "typing": ItemKind.TYPING,
    EVENT + "participant.joined": ItemKind.PARTICIPANT_JOINED,
    EVENT + "participant.left": ItemKind.PARTICIPANT_LEFT,
    EVENT + "chat.ended": ItemKind.CHAT_ENDED,
    EVENT + "transfer.succeeded": ItemKind.TRANSFER_SUCCEEDED,
    EVENT + "transfer.failed": ItemKind.TRANSFER_FAILED,
    EVENT + "connection.acknowledged": ItemKind.CONNECTION_ACKNOWLEDGED,
    EVENT + "message.delivered": ItemKind.DELIVERED,
    EVENT + "message.read": ItemKind.READ,
}

# Kinds that live only on the socket: GetTranscript never returns them, so
# their Id cannot be a transcript StartPosition.
SOCKET_ONLY_KINDS = frozenset(
    {ItemKind.TYPING, ItemKind.CONNECTION_ACKNOWLEDGED, ItemKind.DELIVERED, ItemKind.READ}
)


class _Wire(msgspec.Struct, frozen=True, rename="pascal"):
    pass


class Receipt(_Wire):
    recipient_participant_id: str | None = None
    delivered_timestamp: str | None = None
    read_timestamp: str | None = None


class MessageMetadata(_Wire):
    """Receipts for the message `message_id` (MESSAGEMETADATA items)."""

    message_id: str
    receipts: tuple[Receipt, ...] = ()


class ChatItem(_Wire):
    """One item of a chat (a message, an event, receipts), as the socket and
    GetTranscript show it. `content` of an `aws/chat` frame has already been
    decoded once; for events it may be JSON again (read it with `json.loads`)."""

    id: str
    type: str
    content_type: str
    absolute_time: str
    participant_id: str | None = None
    display_name: str | None = None
    participant_role: str | None = None
    content: str | None = None
    contact_id: str | None = None
    initial_contact_id: str | None = None
    message_metadata: MessageMetadata | None = None

    @property
    def kind(self) -> ItemKind:
        if self.type == "MESSAGE":
            return ItemKind.MESSAGE
        if self.type == "ATTACHMENT":
            return ItemKind.ATTACHMENT
        return _EVENT_KINDS.get(self.content_type, ItemKind.OTHER_EVENT)

    @property
    def in_transcript(self) -> bool:
        """Whether GetTranscript lists this item (typing and receipts it does not)."""
        return self.kind not in SOCKET_ONLY_KINDS


class SubscribeAnswer(msgspec.Struct, frozen=True):
    ok: bool
    topics: tuple[str, ...]


class Heartbeat(msgspec.Struct, frozen=True):
    pass


class PingAnswer(msgspec.Struct, frozen=True):
    status_code: int | None


class OtherFrame(msgspec.Struct, frozen=True):
    """A well-formed frame on a topic the worker does not use."""

    topic: str


class MalformedFrame(msgspec.Struct, frozen=True):
    """A frame that could not be read; `excerpt` is its start, for a log line."""

    reason: str
    excerpt: str


Frame = SubscribeAnswer | Heartbeat | PingAnswer | ChatItem | OtherFrame | MalformedFrame

_item_decoder = msgspec.json.Decoder(ChatItem)


def parse_frame(text: str | bytes) -> Frame:
    """One WebSocket text frame as a typed value; never raises."""
    try:
        frame = json.loads(text)
    except ValueError as error:
        return _malformed(f"not JSON: {error}", text)
    if not isinstance(frame, dict) or not isinstance(frame.get("topic"), str):
        return _malformed("no topic", text)
    topic = frame["topic"]
    if topic == "aws/chat":
        return _chat_item(frame.get("content"), text)
    if topic == "aws/heartbeat":
        return Heartbeat()
    if topic == "aws/ping":
        status = frame.get("statusCode")
        return PingAnswer(status if isinstance(status, int) else None)
    if topic == "aws/subscribe":
        return _subscribe_answer(frame.get("content"), text)
    return OtherFrame(topic)


def _chat_item(content: object, text: str | bytes) -> ChatItem | MalformedFrame:
    if not isinstance(content, str):
        return _malformed("aws/chat content is not a JSON string", text)
    try:
        return _item_decoder.decode(content)
    except msgspec.DecodeError as error:
        return _malformed(f"aws/chat item: {error}", text)


def _subscribe_answer(content: object, text: str | bytes) -> SubscribeAnswer | MalformedFrame:
    if not isinstance(content, dict) or not isinstance(content.get("status"), str):
        return _malformed("aws/subscribe answer without a status", text)
    topics = content.get("topics")
    names = tuple(t for t in topics if isinstance(t, str)) if isinstance(topics, list) else ()
    return SubscribeAnswer(ok=content["status"] == "success", topics=names)


def _malformed(reason: str, text: str | bytes) -> MalformedFrame:
    excerpt = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return MalformedFrame(reason, excerpt[:_EXCERPT_CHARS])
