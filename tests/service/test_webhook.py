"""The bot's webhook hears the agent and the hand-back of a conversation transferred with DeliverTo."""

from __future__ import annotations

from tests.service.conftest import Bot, Running
from tests.service.harness import wait_for


def test_the_webhook_hears_the_agent_and_the_hand_back_once_each(running: Running, bot: Bot) -> None:
    assert running.api.transfer("w-1", running.worker_id, DeliverTo=bot.url)[0] == 201
    wait_for(lambda: "AgentJoined" in bot.types(), "AgentJoined at the webhook")
    running.api.say("w-1", "m-1", "hello")
    wait_for(lambda: "AgentMessage" in bot.types(), "the agent's message at the webhook")
    running.api.call("POST", "/v1/conversations/w-1/leave")
    wait_for(lambda: "ReturnedToBot" in bot.types(), "the hand-back at the webhook")
    by_type = {message["Type"]: message for message in bot.received}
    assert by_type["AgentMessage"]["Text"] == "You said: hello"
    assert by_type["ReturnedToBot"]["Context"]["SessionEndReason"] == "UserLeft"
    ids = [message["Id"] for message in bot.received]
    assert len(ids) == len(set(ids))
