from __future__ import annotations

import json

import pytest

from delivery import NotForTheBot, bot_message, is_for_the_bot
from store import EventStore
from tests.delivery.conversations import append, whole
from tests.events.scenario import TOKEN


def stored_messages(store: EventStore) -> list[dict]:
    append(store, "conv-7", whole("conv-7", "http://127.0.0.1:1/bot", agent_messages=2))
    return [bot_message(stored) for stored in store.read_all() if is_for_the_bot(stored)]


def test_each_type_told_to_the_bot_has_its_stable_name_and_fields(store: EventStore) -> None:
    messages = stored_messages(store)

    assert [m["Type"] for m in messages] == [
        "AgentJoined", "AgentTyping", "AgentMessage", "AgentMessage", "UserNotified", "AgentLeft", "ReturnedToBot",
    ]
    joined, typing, first, _, notified, left, returned = messages
    assert joined["AgentName"] == typing["AgentName"] == left["AgentName"] == "Ana"
    assert first == {
        "Id": f"conv-7:{first['Seq']}", "ConversationId": "conv-7", "Seq": first["Seq"], "Type": "AgentMessage",
        "At": "1970-01-01T00:00:03.000Z", "Text": "message 0 for conv-7", "ContentType": "text/plain",
        "AgentName": "Ana", "Role": "AGENT", "ConnectMessageId": "m-0",
    }
    assert notified["Text"] == "Still there?"
    assert returned["Context"] == {
        "FirstName": "Bo", "Plan": "gold", "SessionEndReason": "AgentLeft",
        "LastKnownAgent": {"AgentName": "Ana"}, "ParticipantId": "participant-conv-7",
        "ConnectRegion": {"Region": "us-east-1", "FailoverRegion": None},
    }


def test_ids_are_conversation_and_seq_so_the_bot_can_deduplicate(store: EventStore) -> None:
    messages = stored_messages(store)

    assert [m["Id"] for m in messages] == [f"conv-7:{m['Seq']}" for m in messages]
    assert [m["Seq"] for m in messages] == sorted({m["Seq"] for m in messages})


def test_no_token_in_any_message(store: EventStore) -> None:
    assert TOKEN not in json.dumps(stored_messages(store))


def test_an_event_the_bot_is_not_told_of_is_refused_by_name(store: EventStore) -> None:
    append(store, "conv-7", whole("conv-7", "http://127.0.0.1:1/bot"))
    chat_started = next(stored for stored in store.read_all() if stored.type == "ChatStarted")

    with pytest.raises(NotForTheBot, match="conversation-conv-7 seq 3: ChatStarted"):
        bot_message(chat_started)
