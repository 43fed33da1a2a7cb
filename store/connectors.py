"""The connector registry: each connector is a stream `connector-<id>` of configuration events.

Commands go through the pure `decide_connector`, given every live connector's alias; the registry
only loads the streams, appends what was decided with the version it read, and folds.

    >>> registry = ConnectorRegistry(store)
    >>> connector_id = registry.create(config, at=time.time())
    >>> registry.by_alias("sendEmail")
    ('3f0c...', ConnectorConfig(alias='sendEmail', ...))

An alias is checked against the others when a connector is written. Two writers at the same instant
could each pass the check (they append to different streams); the commands are an operator's tool,
so that race is accepted rather than serialised.
"""

from __future__ import annotations

import uuid

from connectors.config import ConnectorConfig
from connectors.stream import (
    ConnectorCommand,
    ConnectorDeleted,
    ConnectorState,
    CreateConnector,
    DeleteConnector,
    UpdateConnector,
    connector_event_type,
    decide_connector,
    decode_connector_event,
    encode_connector_event,
    evolve_connector,
    initial_connector_state,
)
from events.rejection import Rejected
from store.event_store import EventStore
from store.records import NewEvent

STREAM_PREFIX = "connector-"


class UnknownConnector(LookupError):
    """No connector has that id or alias (or it was deleted)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"no connector with {what}")


class ConnectorRegistry:
    """Create, read, change and delete connectors in the event store, and find one by its alias."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def create(self, config: ConnectorConfig, *, at: float) -> str:
        connector_id = str(uuid.uuid4())
        self._handle(connector_id, CreateConnector(at=at, connector_id=connector_id, config=config))
        return connector_id

    def get(self, connector_id: str) -> ConnectorConfig:
        state = self._load(connector_id)
        if state.config is None or state.deleted:
            raise UnknownConnector(f"id {connector_id!r}")
        return state.config

    def by_alias(self, alias: str) -> tuple[str, ConnectorConfig]:
        """The id and configuration of the connector called `alias` (a worker's `ConnectorAlias`)."""
        for connector_id, config in self.list().items():
            if config.alias == alias:
                return connector_id, config
        raise UnknownConnector(f"alias {alias!r}")

    def list(self) -> dict[str, ConnectorConfig]:
        """Every connector not deleted, by id."""
        ids = [stream.removeprefix(STREAM_PREFIX) for stream in self._store.open_streams(STREAM_PREFIX)]
        states = [self._load(connector_id) for connector_id in ids]
        return {state.connector_id: state.config for state in states if state.config is not None}

    def update(self, connector_id: str, config: ConnectorConfig, *, at: float) -> ConnectorState:
        return self._handle(connector_id, UpdateConnector(at=at, config=config))

    def delete(self, connector_id: str, *, at: float) -> ConnectorState:
        return self._handle(connector_id, DeleteConnector(at=at))

    def _load(self, connector_id: str) -> ConnectorState:
        state = initial_connector_state(connector_id)
        for stored in self._store.read_stream(STREAM_PREFIX + connector_id):
            state = evolve_connector(state, decode_connector_event(stored.data))
        return state

    def _handle(self, connector_id: str, command: ConnectorCommand) -> ConnectorState:
        state = self._load(connector_id)
        aliases = {config.alias: other for other, config in self.list().items()}
        try:
            events = decide_connector(state, command, aliases=aliases)
        except Rejected as rejection:
            if rejection.code in ("connector_deleted", "unknown_connector"):
                raise UnknownConnector(f"id {connector_id!r}") from None
            raise
        if events:
            self._store.append(
                STREAM_PREFIX + connector_id,
                [NewEvent(connector_event_type(event), encode_connector_event(event)) for event in events],
                expected_version=state.version,
                closes_stream=any(isinstance(event, ConnectorDeleted) for event in events),
            )
        for event in events:
            state = evolve_connector(state, event)
        return state
