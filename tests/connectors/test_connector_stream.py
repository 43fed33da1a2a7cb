"""The connector stream's pure core: decide, evolve, and its bytes."""

from __future__ import annotations

import json
from functools import reduce

import pytest
from msgspec.structs import replace

from connectors.config import ConnectorConfig, parse_connector_config
from connectors.stream import (
    ConnectorCreated,
    ConnectorDeleted,
    ConnectorState,
    ConnectorUpdated,
    CreateConnector,
    DeleteConnector,
    UpdateConnector,
    decide_connector,
    decode_connector_event,
    encode_connector_event,
    evolve_connector,
    initial_connector_state,
)
from events import FutureSchemaVersion, InvalidEvent, Rejected, UnknownEventType
from tests.connectors.seeds import EMAIL_FILE

EMAIL = parse_connector_config(EMAIL_FILE.read_bytes())


def created(connector_id: str = "c-1", config: ConnectorConfig = EMAIL) -> ConnectorState:
    state = initial_connector_state(connector_id)
    events = decide_connector(state, CreateConnector(at=1.0, connector_id=connector_id, config=config), aliases={})
    return reduce(evolve_connector, events, state)


def test_create_then_update_then_delete() -> None:
    state = created()
    assert (state.version, state.config) == (1, EMAIL)
    changed = replace(EMAIL, description="Send the transcript")
    [updated] = decide_connector(state, UpdateConnector(at=2.0, config=changed), aliases={"sendEmail": "c-1"})
    assert isinstance(updated, ConnectorUpdated)
    state = evolve_connector(state, updated)
    [deleted] = decide_connector(state, DeleteConnector(at=3.0), aliases={})
    assert isinstance(deleted, ConnectorDeleted)
    assert evolve_connector(state, deleted).deleted


def test_an_alias_another_connector_uses_is_refused_on_create_and_update() -> None:
    with pytest.raises(Rejected) as caught:
        decide_connector(
            initial_connector_state("c-2"),
            CreateConnector(at=1.0, connector_id="c-2", config=EMAIL),
            aliases={"sendEmail": "c-1"},
        )
    assert caught.value.code == "alias_taken"
    assert caught.value.message == "the alias 'sendEmail' is already used by connector c-1; aliases are unique"
    other = created("c-2", replace(EMAIL, alias="sendTranscript"))
    with pytest.raises(Rejected):
        decide_connector(other, UpdateConnector(at=2.0, config=EMAIL), aliases={"sendEmail": "c-1", "sendTranscript": "c-2"})


def test_an_update_that_changes_nothing_records_nothing() -> None:
    assert decide_connector(created(), UpdateConnector(at=2.0, config=EMAIL), aliases={"sendEmail": "c-1"}) == []


def test_a_deleted_connector_takes_no_command() -> None:
    state = evolve_connector(created(), ConnectorDeleted(at=2.0))
    with pytest.raises(Rejected) as caught:
        decide_connector(state, UpdateConnector(at=3.0, config=EMAIL), aliases={})
    assert caught.value.code == "connector_deleted"


def test_events_read_back_as_they_were_written() -> None:
    event = ConnectorCreated(at=1.0, connector_id="c-1", config=EMAIL)
    assert decode_connector_event(encode_connector_event(event)) == event


def test_bytes_that_are_no_connector_event_raise_the_codecs_typed_errors() -> None:
    body = json.loads(encode_connector_event(ConnectorDeleted(at=1.0)))
    with pytest.raises(FutureSchemaVersion):
        decode_connector_event(json.dumps({**body, "v": 2}).encode())
    with pytest.raises(UnknownEventType):
        decode_connector_event(json.dumps({**body, "type": "ConnectorRenamed"}).encode())
    with pytest.raises(InvalidEvent):
        decode_connector_event(json.dumps({**body, "at": "yesterday"}).encode())
    with pytest.raises(InvalidEvent):
        decode_connector_event(b"not json")
