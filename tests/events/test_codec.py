"""The codec: round trips, the stored fixture log, schema upgrades and typed decoding errors."""

from __future__ import annotations

import json
from functools import reduce
from pathlib import Path

import pytest

from events import (
    FutureSchemaVersion,
    InvalidEvent,
    UnknownEventType,
    armed_timers,
    decode,
    decode_worker,
    encode,
    event_type,
    evolve,
    handback,
    initial_state,
    pending_effects,
)
from events.conversation_events import AgentMessageReceived, ReturnedToBot
from events.worker import FailoverActivated, WorkerCreated, WorkerDeleted
from tests.events.scenario import Run, worker_config

FIXTURE = Path(__file__).parent / "fixtures" / "conversation_v1.jsonl"


def fixture_records() -> list[bytes]:
    return FIXTURE.read_bytes().splitlines()


def test_every_event_of_a_conversation_round_trips() -> None:
    run = Run().connected().with_agent()
    run.agent_says("hello", at=5)
    for event in run.events:
        data = encode(event)
        assert decode(data) == event
        assert json.loads(data)["type"] == event_type(event) == type(event).__name__


def test_fixture_log_still_decodes() -> None:
    events = [decode(record) for record in fixture_records()]
    assert len(events) == 31
    assert [json.loads(record)["type"] for record in fixture_records()] == [event_type(e) for e in events]


def test_fixture_log_upgrades_v1_agent_messages() -> None:
    messages = [event for event in map(decode, fixture_records()) if isinstance(event, AgentMessageReceived)]
    assert [message.content for message in messages] == [
        "Thanks, an agent will be with you shortly",
        "Hi, I am Ana. What is the order number?",
        "Found it, it ships tomorrow.",
    ]
    assert all(message.v == 2 for message in messages)


def test_fixture_log_replays_to_the_expected_state() -> None:
    events = [decode(record) for record in fixture_records()]
    state = reduce(evolve, events, initial_state("fixture-1"))
    assert state.version == 31
    assert state.phase == "returned"
    assert state.end_reason == "AgentLeft"
    assert state.last_known_agent == "Ana"
    assert state.context == {"FirstName": "Bo", "Order": "4711"}
    assert state.chat is not None and state.chat.contact_id == "contact-fx"
    assert pending_effects(state) == [] and armed_timers(state) == []
    assert "cm-agent-2" in state.seen_connect_ids and "bot-2" in state.seen_bot_message_ids
    assert isinstance(events[-1], ReturnedToBot)
    assert handback(events[-1]) == {
        "FirstName": "Bo",
        "Order": "4711",
        "SessionEndReason": "AgentLeft",
        "LastKnownAgent": {"AgentName": "Ana"},
        "ParticipantId": "participant-fx",
    }


def test_unknown_event_type_names_the_tag() -> None:
    with pytest.raises(UnknownEventType) as raised:
        decode(b'{"type":"AgentSang","v":1,"at":1.0}')
    assert raised.value.tag == "AgentSang"
    assert "AgentSang" in str(raised.value)


def test_future_schema_version_names_the_type_and_version() -> None:
    with pytest.raises(FutureSchemaVersion) as raised:
        decode(b'{"type":"ChatEnded","v":7,"at":1.0,"reason":"UserLeft"}')
    assert (raised.value.event_type, raised.value.version, raised.value.known) == ("ChatEnded", 7, 1)
    assert "ChatEnded" in str(raised.value) and "7" in str(raised.value)


def test_future_version_of_an_upgraded_type_is_refused_too() -> None:
    with pytest.raises(FutureSchemaVersion):
        decode(b'{"type":"AgentMessageReceived","v":3,"at":1.0}')


def test_invalid_field_is_named() -> None:
    with pytest.raises(InvalidEvent) as raised:
        decode(b'{"type":"ChatEnded","v":1,"at":1.0,"reason":"Bored"}')
    assert "$.reason" in str(raised.value) and "ChatEnded" in str(raised.value)


def test_missing_field_is_named() -> None:
    with pytest.raises(InvalidEvent) as raised:
        decode(b'{"type":"UserMessageSent","v":1,"at":1.0,"request_seq":3}')
    assert "connect_message_id" in str(raised.value)


@pytest.mark.parametrize("data", [b"not json", b"[1,2]", b'{"v":1}', b'{"type":"ChatEnded","v":"one","at":1}'])
def test_bytes_that_are_no_event_are_refused_clearly(data: bytes) -> None:
    with pytest.raises(InvalidEvent):
        decode(data)


def test_worker_event_is_not_a_conversation_event() -> None:
    with pytest.raises(UnknownEventType):
        decode(encode(WorkerDeleted(at=1.0)))


def test_worker_events_round_trip_with_their_configuration() -> None:
    events = [
        WorkerCreated(at=1.0, worker_id="w-1", config=worker_config()),
        FailoverActivated(at=2.0, name="us-west-2-oregon"),
        WorkerDeleted(at=3.0),
    ]
    for event in events:
        assert decode_worker(encode(event)) == event
