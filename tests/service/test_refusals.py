"""What Connect refuses for good, the bot hears of, with Connect's reason, by webhook and pull stream alike;
and the conversation goes on."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import Bot, Running
from tests.service.harness import events_of, of_type, wait_for


def told(bot: Bot, kind: str) -> list[dict[str, Any]]:
    return [message for message in bot.received if message["Type"] == kind]


def pulled(running: Running, conversation_id: str, kind: str) -> list[dict[str, Any]]:
    status, page = running.api.call("GET", f"/v1/conversations/{conversation_id}/events?after=0")
    assert status == 200, page
    return [message for message in page["Events"] if message["Type"] == kind]


def connected(running: Running, bot: Bot, conversation_id: str) -> None:
    assert running.api.transfer(conversation_id, running.worker_id, DeliverTo=bot.url)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, conversation_id), "AgentJoined"), "Ana to join")


def test_a_message_connect_refuses_is_told_to_the_bot_with_its_id_and_the_reason(running: Running, bot: Bot) -> None:
    connected(running, bot, "r-1")
    reason = "The content is not accepted on this channel"
    running.connect.refuse_next(1, "SendMessage", "ValidationException", reason)
    assert running.api.say("r-1", "m-1", "refused, this one")[0] == 202
    assert running.api.say("r-1", "m-2", "taken")[0] == 202

    [refused] = wait_for(lambda: told(bot, "MessageRefused"), "the refusal at the webhook")
    assert (refused["MessageId"], refused["Code"], refused["Message"]) == ("m-1", "ValidationException", reason)
    assert pulled(running, "r-1", "MessageRefused") == [refused]
    # The conversation goes on: the next message reaches Ana, and she answers it.
    wait_for(lambda: [m for m in told(bot, "AgentMessage") if m["Text"] == "You said: taken"], "Ana's answer to the next one")


def test_a_context_update_connect_refuses_is_told_to_the_bot_with_the_reason(running: Running, bot: Bot) -> None:
    connected(running, bot, "r-2")
    reason = "Attributes are over the instance's limit"
    running.connect.refuse_next(1, "UpdateContactAttributes", "InvalidParameterException", reason)
    assert running.api.call("PUT", "/v1/conversations/r-2/context", {"Context": {"plan": "gold"}})[0] == 202

    [refused] = wait_for(lambda: told(bot, "ContextUpdateRefused"), "the refusal at the webhook")
    assert (refused["Code"], refused["Message"]) == ("InvalidParameterException", reason)
    assert pulled(running, "r-2", "ContextUpdateRefused") == [refused]
    # The context is the bot's all the same: it comes back in the hand-back.
    assert running.api.call("POST", "/v1/conversations/r-2/leave")[0] == 202
    [handed_back] = wait_for(lambda: told(bot, "ReturnedToBot"), "the hand-back")
    assert handed_back["Context"]["plan"] == "gold"
