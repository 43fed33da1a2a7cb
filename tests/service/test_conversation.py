"""A conversation end to end: the bot's HTTP API, the service, the local Amazon Connect."""

from __future__ import annotations

from collections.abc import Callable

from connect_local.config import AgentConfig, ReplyRule
from events import handback
from tests.connect_local.configs import config_with
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for

LEAVING_ANA = AgentConfig(
    name="Ana",
    join_delay_seconds=0,
    replies=[ReplyRule(contains="bye", reply="Bye!", leave=True)],
)


def customer_messages(running: Running, contact_id: str) -> list[dict]:
    record = running.connect.contact_record(contact_id)
    return [item for item in record["Items"] if item["Type"] == "MESSAGE" and item["ParticipantRole"] == "CUSTOMER"]


def test_transfer_relay_both_ways_and_agent_leaves(start_service: Callable[..., Running]) -> None:
    running = start_service(config_with([LEAVING_ANA]))
    status, conversation = running.api.transfer("c-1", running.worker_id, Context={"name": "Dana", "plan": "gold"})
    assert status == 201, conversation
    assert conversation["DisplayName"] == "Dana"
    wait_for(lambda: of_type(events_of(running.store, "c-1"), "AgentJoined"), "Ana to join")

    status, answer = running.api.say("c-1", "m-1", "where is my order")
    assert status == 202, answer
    contact_id = running.service.state("c-1").chat.contact_id
    reply = wait_for(
        lambda: [e for e in of_type(events_of(running.store, "c-1"), "AgentMessageReceived") if "order" in e.content],
        "Ana's reply",
    )
    assert reply[0].content == "You said: where is my order"
    sent = customer_messages(running, contact_id)
    requested = of_type(events_of(running.store, "c-1"), "UserMessageRequested")[0]
    assert [(m["Content"], m["ClientToken"]) for m in sent] == [("where is my order", requested.client_token)]

    running.api.say("c-1", "m-2", "bye now")
    returned = wait_for(lambda: of_type(events_of(running.store, "c-1"), "ReturnedToBot"), "the hand-back")[0]
    context = handback(returned)
    assert context["SessionEndReason"] == "AgentLeft"
    assert context["LastKnownAgent"] == {"AgentName": "Ana"}
    assert context["plan"] == "gold"
    record = running.connect.contact_record(contact_id)
    assert record["Attributes"]["plan"] == "gold"
    assert {m["DisplayName"] for m in customer_messages(running, contact_id)} == {"Dana"}


def test_a_message_to_an_ended_conversation_is_refused_with_its_code(running: Running) -> None:
    running.api.transfer("c-2", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-2"), "AgentJoined"), "Ana to join")
    status, _ = running.api.call("POST", "/v1/conversations/c-2/leave")
    assert status == 202
    wait_for(lambda: of_type(events_of(running.store, "c-2"), "ReturnedToBot"), "the hand-back")
    status, error = running.api.say("c-2", "m-9", "hello?")
    assert (status, error["Code"]) == (409, "conversation_ended")
    assert running.service.state("c-2").end_reason == "UserLeft"
