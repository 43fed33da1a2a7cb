"""Agent slash commands end to end: an agent types a command on the agent page of the local Amazon
Connect; the user gets the content item (through the bot), never the command; what the worker tells
the agent shows in the chat as the customer participant's message, which the bot is never told."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import msgspec

from events.worker_config import SlashCommand, SlashCommandAction
from store.content import ContentRegistry
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.conftest import Bot, Running
from tests.service.harness import events_of, of_type, wait_for


def agent_api(running: Running, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{running.connect.endpoint_url}/agent/api/chats/{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def with_commands(running: Running, commands: dict[str, SlashCommand]) -> None:
    workers = WorkerRegistry(running.store)
    config = workers.get(running.worker_id)
    data = msgspec.structs.replace(config.data, slash_commands=commands)
    workers.update(running.worker_id, msgspec.structs.replace(config, data=data), at=time.time())


def accepted_chat(running: Running, bot: Bot, conversation_id: str) -> str:
    assert running.api.transfer(conversation_id, running.worker_id, DeliverTo=bot.url, Context={"name": "Maya"})[0] == 201
    wait_for(lambda: of_type(events_of(running.store, conversation_id), "ConnectionOpened"), "the chat's socket")
    contact_id = running.service.state(conversation_id).chat.contact_id
    agent_api(running, "POST", f"{contact_id}/accept", {"AgentName": "Ana"})
    wait_for(lambda: "AgentJoined" in bot.types(), "Ana joining")
    return contact_id


def customer_lines(running: Running, contact_id: str) -> list[str]:
    items = agent_api(running, "GET", f"{contact_id}/transcript")["Items"]
    return [i["Content"] for i in items if i.get("Type") == "MESSAGE" and i.get("ParticipantRole") == "CUSTOMER"]


def test_an_agents_command_sends_its_content_to_the_user_and_the_agent_alone_sees_the_help(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with(agents=[]))
    welcome = SlashCommand(
        actions=[SlashCommandAction(type="content", value="welcomewithname")],
        description="A welcome message with the users name",
    )
    with_commands(running, {"/welcome": welcome})
    ContentRegistry(running.store).put(running.worker_id, "welcomewithname", "Welcome, {{name}}!", at=time.time())
    contact_id = accepted_chat(running, bot, "slash-1")

    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "/welcome"})
    [sent] = wait_for(lambda: [m for m in bot.received if m["Type"] == "AgentMessage"], "the content at the bot")
    assert (sent["Text"], sent["AgentName"], sent["SlashCommand"]) == ("Welcome, Maya!", "Ana", "/welcome")

    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "/help"})
    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "/refund 20"})
    told = wait_for(lambda: lines if len(lines := customer_lines(running, contact_id)) >= 2 else None, "two notices")
    assert told[0].splitlines() == [
        "[connect worker] commands of this chat:",
        "/welcome: A welcome message with the users name",
        "/help: this list",
    ]
    assert told[1].startswith("[connect worker] /refund is not a command of this chat")

    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "Anything else?"})
    wait_for(lambda: len([m for m in bot.received if m["Type"] == "AgentMessage"]) == 2, "the plain message")
    assert [m["Text"] for m in bot.received if m["Type"] == "AgentMessage"] == ["Welcome, Maya!", "Anything else?"]


def test_a_missing_content_item_is_told_to_the_agent_and_the_chat_goes_on(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with(agents=[]))
    with_commands(running, {"/terms": SlashCommand(actions=[SlashCommandAction(type="content", value="terms")])})
    contact_id = accepted_chat(running, bot, "slash-2")
    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "/terms"})
    [notice] = wait_for(lambda: customer_lines(running, contact_id), "the notice")
    assert notice == "[connect worker] /terms: terms failed (NoSuchContent): this worker has no content item 'terms'"
    assert running.api.say("slash-2", "m-1", "still here")[0] == 202
    wait_for(lambda: "still here" in customer_lines(running, contact_id), "the user's message after it")


def test_what_the_agent_writes_after_a_command_reaches_the_user_after_the_commands_content(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with(agents=[]))
    with_commands(running, {"/welcome": SlashCommand(actions=[SlashCommandAction(type="content", value="hello")])})
    ContentRegistry(running.store).put(running.worker_id, "hello", "Welcome, {{name}}!", at=time.time())
    contact_id = accepted_chat(running, bot, "slash-3")
    for text in ("/welcome", "first", "/welcome", "second", "third"):
        agent_api(running, "POST", f"{contact_id}/messages", {"Content": text})
    texts = wait_for(
        lambda: got if len(got := [m["Text"] for m in bot.received if m["Type"] == "AgentMessage"]) == 5 else None,
        "five messages for the user",
    )
    assert texts == ["Welcome, Maya!", "first", "Welcome, Maya!", "second", "third"]
