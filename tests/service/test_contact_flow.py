"""Messages from the contact flow itself reach the user like an agent's, and a chat the contact centre
ends before any agent joined is handed back with Error: end to end against the local Amazon Connect."""

from __future__ import annotations

from collections.abc import Callable

from connect_local import Config
from connect_local.config import ContactFlowConfig, HoursOfOperation, InstanceConfig, QueueConfig, RegionConfig
from tests.connect_local.clients import boto_client
from tests.connect_local.configs import INSTANT_ANA, config_with
from tests.service.conftest import Bot, Running
from tests.service.harness import events_of, of_type, wait_for

CLOSED_MESSAGE = "We are closed. Open Monday to Friday, 9 to 5."


def closed_hours() -> Config:
    """The demo worker's flow into a queue whose hours are never open (though Ana serves it)."""
    instance = InstanceConfig(
        id="closed-instance",
        contact_flows=[ContactFlowConfig(id="closed-flow", queue_id="closed-queue", closed_message=CLOSED_MESSAGE)],
        queues=[QueueConfig(id="closed-queue", hours_of_operation_id="never", agents=[INSTANT_ANA])],
        hours_of_operation=[HoursOfOperation(id="never", schedule=[])],
    )
    return Config(regions=[RegionConfig(name="us-east-1", instances=[instance])])


def flow_messages(running: Running, conversation_id: str) -> list:
    return [e for e in of_type(events_of(running.store, conversation_id), "AgentMessageReceived") if e.role == "SYSTEM"]


def test_the_flows_closed_message_reaches_the_user_and_the_bot_like_an_agents(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(closed_hours())
    assert running.api.transfer("f-1", running.worker_id, DeliverTo=bot.url)[0] == 201
    [closed] = wait_for(lambda: flow_messages(running, "f-1"), "the flow's closed message")
    assert (closed.content, closed.agent_name) == (CLOSED_MESSAGE, "SYSTEM_MESSAGE")
    told = wait_for(lambda: [m for m in bot.received if m["Type"] == "AgentMessage"], "the closed message at the webhook")
    assert (told[0]["Role"], told[0]["Text"]) == ("SYSTEM", CLOSED_MESSAGE)

    assert running.api.say("f-1", "m-1", "hello?")[0] == 202
    again = wait_for(lambda: flow_messages(running, "f-1")[1:], "the closed answer to the user's message")
    assert again[0].content == CLOSED_MESSAGE
    assert not of_type(events_of(running.store, "f-1"), "AgentJoined")

    assert running.api.call("POST", "/v1/conversations/f-1/leave")[0] == 202
    handed_back = wait_for(lambda: [m for m in bot.received if m["Type"] == "ReturnedToBot"], "the hand-back at the webhook")
    assert handed_back[0]["Context"]["SessionEndReason"] == "UserLeft"
    assert handed_back[0]["Context"]["LastKnownAgent"] is None


def test_a_chat_the_contact_centre_ends_before_any_agent_joined_is_handed_back_with_error(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with(agents=[]))  # nobody takes the chat: it waits in the queue
    assert running.api.transfer("f-2", running.worker_id, DeliverTo=bot.url)[0] == 201
    # Once the socket is open, the end arrives as Connect's chat-ended item.
    wait_for(lambda: of_type(events_of(running.store, "f-2"), "ConnectionOpened"), "the chat's socket to open")
    contact_id = running.service.state("f-2").chat.contact_id
    boto_client("connect", running.connect).stop_contact(
        InstanceId=running.connect.ready_info()["instance_id"], ContactId=contact_id
    )

    handed_back = wait_for(lambda: [m for m in bot.received if m["Type"] == "ReturnedToBot"], "the hand-back at the webhook")
    assert handed_back[0]["Context"]["SessionEndReason"] == "Error"
    assert handed_back[0]["Context"]["LastKnownAgent"] is None
    [ended] = of_type(events_of(running.store, "f-2"), "ChatEnded")
    assert (ended.reason, ended.detail) == ("Error", "the chat ended before any agent joined")
    assert not of_type(events_of(running.store, "f-2"), "AgentJoined")
