"""A connector as a stream (`connector-<id>`): its events, commands, decide, evolve, and its bytes in the store.

`decide_connector` is pure: the aliases of the other connectors arrive with the call, so the rule
that an alias names one connector is decided here, not in the store.

    >>> events = decide_connector(state, CreateConnector(at=now, connector_id=id, config=config), aliases={})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Union

import msgspec
from msgspec.structs import replace

from connectors.config import ConnectorConfig
from events.codec import FutureSchemaVersion, InvalidEvent, UnknownEventType
from events.rejection import Rejected


class ConnectorEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=True):
    """Base of every connector event; the tag is the class name, never rename one."""

    v: int = 1
    at: float


class ConnectorCreated(ConnectorEvent):
    connector_id: str
    config: ConnectorConfig


class ConnectorUpdated(ConnectorEvent):
    config: ConnectorConfig


class ConnectorDeleted(ConnectorEvent):
    pass


AnyConnectorEvent = Union[ConnectorCreated, ConnectorUpdated, ConnectorDeleted]


class ConnectorCommand(msgspec.Struct, frozen=True, kw_only=True):
    at: float


class CreateConnector(ConnectorCommand):
    connector_id: str
    config: ConnectorConfig


class UpdateConnector(ConnectorCommand):
    config: ConnectorConfig


class DeleteConnector(ConnectorCommand):
    pass


class ConnectorState(msgspec.Struct, frozen=True, kw_only=True):
    """The connector now; `config` is None before creation, `deleted` after deletion."""

    connector_id: str
    version: int = 0
    config: ConnectorConfig | None = None
    deleted: bool = False


def initial_connector_state(connector_id: str) -> ConnectorState:
    return ConnectorState(connector_id=connector_id)


def decide_connector(
    state: ConnectorState, command: ConnectorCommand, *, aliases: Mapping[str, str]
) -> list[ConnectorEvent]:
    """The events `command` causes, or `Rejected`. `aliases` maps every live connector's alias to its id."""
    if isinstance(command, CreateConnector):
        if state.config is not None or state.deleted:
            raise Rejected("connector_exists", f"connector {state.connector_id!r} already exists")
        _refuse_taken_alias(state, command.config.alias, aliases)
        return [ConnectorCreated(at=command.at, connector_id=command.connector_id, config=command.config)]
    if state.deleted:
        raise Rejected("connector_deleted", f"connector {state.connector_id!r} was deleted")
    if state.config is None:
        raise Rejected("unknown_connector", f"connector {state.connector_id!r} does not exist")
    if isinstance(command, UpdateConnector):
        _refuse_taken_alias(state, command.config.alias, aliases)
        return [] if command.config == state.config else [ConnectorUpdated(at=command.at, config=command.config)]
    if isinstance(command, DeleteConnector):
        return [ConnectorDeleted(at=command.at)]
    raise Rejected("unknown_command", f"{type(command).__name__} is not a connector command")


def _refuse_taken_alias(state: ConnectorState, alias: str, aliases: Mapping[str, str]) -> None:
    owner = aliases.get(alias)
    if owner is not None and owner != state.connector_id:
        raise Rejected("alias_taken", f"the alias {alias!r} is already used by connector {owner}; aliases are unique")


def evolve_connector(state: ConnectorState, event: ConnectorEvent) -> ConnectorState:
    return _EVOLVERS[type(event)](state, event)


_EVOLVERS: dict[type, Callable[[ConnectorState, Any], ConnectorState]] = {
    ConnectorCreated: lambda state, event: replace(state, version=state.version + 1, config=event.config),
    ConnectorUpdated: lambda state, event: replace(state, version=state.version + 1, config=event.config),
    ConnectorDeleted: lambda state, event: replace(state, version=state.version + 1, deleted=True),
}

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyConnectorEvent)
_TAGS = {cls.__struct_config__.tag for cls in AnyConnectorEvent.__args__}  # type: ignore[attr-defined]
_SCHEMA_VERSION = 1


def encode_connector_event(event: ConnectorEvent) -> bytes:
    return _encoder.encode(event)


def connector_event_type(event: ConnectorEvent) -> str:
    """The stable tag, also the store's `type` column."""
    return event.__struct_config__.tag  # type: ignore[return-value]


def decode_connector_event(data: bytes) -> ConnectorEvent:
    """A connector event from a store record's `data`, or one of the codec's typed errors.

    Every connector event is at schema version 1; a later version will add upgrades as the
    conversation events have them (`events/upgrades.py`).
    """
    try:
        event = _decoder.decode(data)
    except msgspec.DecodeError as error:
        raise _why_not_an_event(data, error) from None
    if event.v > _SCHEMA_VERSION:
        raise FutureSchemaVersion(connector_event_type(event), event.v, _SCHEMA_VERSION)
    if event.v < 1:
        raise InvalidEvent(f"{connector_event_type(event)}: `$.v` must be a schema version (1, 2, ...), got {event.v}")
    return event


def _why_not_an_event(data: bytes, error: msgspec.DecodeError) -> Exception:
    try:
        body = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return InvalidEvent(f"not an event: {error}")
    tag = body.get("type") if isinstance(body, dict) else None
    if tag not in _TAGS:
        return UnknownEventType(tag)
    version = body.get("v", 1)
    if isinstance(version, int) and version > _SCHEMA_VERSION:
        return FutureSchemaVersion(tag, version, _SCHEMA_VERSION)
    return InvalidEvent(f"{tag}: {error}")
