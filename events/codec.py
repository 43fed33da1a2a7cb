"""Events to bytes and back, for the store's opaque records.

    data = encode(event)                 # msgspec JSON, with "type" (the tag) and "v"
    NewEvent(event_type(event), data)    # what the store appends
    decode(stored.data)                  # a conversation event again
    decode_worker(stored.data)           # a worker event again
    decode_content(stored.data)          # a content item's event again

The fast path is one msgspec decode over the tagged union. A body written at an
older schema version of its type goes the slow path: decoded to a plain
object, upgraded step by step (`events/upgrades.py`), then converted. A newer
version than this code knows raises `FutureSchemaVersion`, an unknown tag
`UnknownEventType`; anything else wrong raises `InvalidEvent` naming the field.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from events.content import AnyContentEvent, ContentEvent
from events.conversation_events import AnyConversationEvent, ConversationEvent
from events.upgrades import UPGRADES
from events.worker import AnyWorkerEvent, WorkerEvent

E = TypeVar("E", bound=msgspec.Struct)


class EventDecodeError(ValueError):
    """Base of the errors raised when stored bytes are not an event this code can read."""


class UnknownEventType(EventDecodeError):
    def __init__(self, tag: object) -> None:
        super().__init__(f"unknown event type {tag!r}: written by another program or a newer version of this one")
        self.tag = tag


class FutureSchemaVersion(EventDecodeError):
    def __init__(self, event_type: str, version: int, known: int) -> None:
        super().__init__(
            f"{event_type} has schema version {version}, newer than version {known} that this code knows; upgrade the service"
        )
        self.event_type = event_type
        self.version = version
        self.known = known


class InvalidEvent(EventDecodeError):
    """The bytes are not a valid event; the message names the type and the field."""


_encoder = msgspec.json.Encoder()


def encode(event: ConversationEvent | WorkerEvent | ContentEvent) -> bytes:
    return _encoder.encode(event)


def event_type(event: ConversationEvent | WorkerEvent | ContentEvent) -> str:
    """The stable tag, also the store's `type` column."""
    return event.__struct_config__.tag  # type: ignore[return-value]


class _UnionCodec(Generic[E]):
    def __init__(self, union: Any) -> None:
        self._decoder = msgspec.json.Decoder(union)
        self._classes: dict[str, type] = {cls.__struct_config__.tag: cls for cls in union.__args__}
        self._versions: dict[type, int] = {cls: _schema_version(cls) for cls in self._classes.values()}

    def decode(self, data: bytes) -> E:
        try:
            event = self._decoder.decode(data)
        except msgspec.DecodeError:
            return self._decode_slowly(data)
        if event.v != self._versions[type(event)]:
            return self._decode_slowly(data)
        return event

    def _decode_slowly(self, data: bytes) -> E:
        try:
            body = msgspec.json.decode(data)
        except msgspec.DecodeError as error:
            raise InvalidEvent(f"not an event: {error}") from None
        if not isinstance(body, dict) or "type" not in body:
            raise InvalidEvent("not an event: expected a JSON object with a `type` field")
        tag = body["type"]
        cls = self._classes.get(tag) if isinstance(tag, str) else None
        if cls is None:
            raise UnknownEventType(tag)
        known = self._versions[cls]
        version = body.get("v", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidEvent(f"{tag}: `$.v` must be a schema version (1, 2, ...), got {version!r}")
        if version > known:
            raise FutureSchemaVersion(tag, version, known)
        while version < known:
            body = UPGRADES[(tag, version)](body)
            version += 1
        try:
            return msgspec.convert(body, cls)
        except msgspec.ValidationError as error:
            raise InvalidEvent(f"{tag} (schema version {body.get('v', 1)}): {error}") from None


def _schema_version(cls: type) -> int:
    field = next(field for field in msgspec.structs.fields(cls) if field.name == "v")
    return field.default


_conversation_codec: _UnionCodec[ConversationEvent] = _UnionCodec(AnyConversationEvent)
_worker_codec: _UnionCodec[WorkerEvent] = _UnionCodec(AnyWorkerEvent)
_content_codec: _UnionCodec[ContentEvent] = _UnionCodec(AnyContentEvent)


def decode(data: bytes) -> ConversationEvent:
    """A conversation event from a store record's `data`."""
    return _conversation_codec.decode(data)


def decode_worker(data: bytes) -> WorkerEvent:
    """A worker event from a store record's `data`."""
    return _worker_codec.decode(data)


def decode_content(data: bytes) -> ContentEvent:
    """A content event from a store record's `data`."""
    return _content_codec.decode(data)
