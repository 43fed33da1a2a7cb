"""Connectors in the event store: one `connector-<id>` stream each, found by id or by alias."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from msgspec.structs import replace

from connectors.config import parse_connector_config
from events import Rejected
from store import EventStore
from store.connectors import ConnectorRegistry, UnknownConnector
from tests.connectors.seeds import EMAIL_FILE, TRANSLATE_FILE

EMAIL = parse_connector_config(EMAIL_FILE.read_bytes())
TRANSLATE = parse_connector_config(TRANSLATE_FILE.read_bytes())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    with EventStore.open(tmp_path / "events.db") as opened:
        yield opened


@pytest.fixture
def registry(store: EventStore) -> ConnectorRegistry:
    return ConnectorRegistry(store)


def test_a_connector_is_a_stream_found_by_id_and_by_alias(registry: ConnectorRegistry, store: EventStore) -> None:
    email_id = registry.create(EMAIL, at=1.0)
    translate_id = registry.create(TRANSLATE, at=2.0)
    assert [event.type for event in store.read_stream(f"connector-{email_id}")] == ["ConnectorCreated"]
    assert registry.get(email_id) == EMAIL
    assert registry.by_alias("IngressTranslateBaas") == (translate_id, TRANSLATE)
    assert registry.list() == {email_id: EMAIL, translate_id: TRANSLATE}


def test_a_second_connector_with_the_same_alias_is_refused(registry: ConnectorRegistry, store: EventStore) -> None:
    first = registry.create(EMAIL, at=1.0)
    with pytest.raises(Rejected) as caught:
        registry.create(replace(EMAIL, description="another"), at=2.0)
    assert caught.value.message == f"the alias 'sendEmail' is already used by connector {first}; aliases are unique"
    assert list(registry.list()) == [first]
    other = registry.create(replace(EMAIL, alias="sendTranscript"), at=3.0)
    with pytest.raises(Rejected):
        registry.update(other, EMAIL, at=4.0)
    assert registry.by_alias("sendEmail") == (first, EMAIL)


def test_a_connector_keeps_its_own_alias_when_updated(registry: ConnectorRegistry) -> None:
    connector_id = registry.create(EMAIL, at=1.0)
    changed = replace(EMAIL, description="Send the transcript")
    registry.update(connector_id, changed, at=2.0)
    assert registry.get(connector_id) == changed


def test_a_deleted_connector_is_gone_and_frees_its_alias(registry: ConnectorRegistry, store: EventStore) -> None:
    connector_id = registry.create(EMAIL, at=1.0)
    registry.delete(connector_id, at=2.0)
    with pytest.raises(UnknownConnector):
        registry.get(connector_id)
    with pytest.raises(UnknownConnector, match="no connector with alias 'sendEmail'"):
        registry.by_alias("sendEmail")
    assert store.open_streams("connector-") == []
    assert registry.create(EMAIL, at=3.0) != connector_id


def test_an_unknown_id_is_named(registry: ConnectorRegistry) -> None:
    with pytest.raises(UnknownConnector, match="no connector with id 'nope'"):
        registry.update("nope", EMAIL, at=1.0)
