"""A long chat survives a restart without telling the bot anything twice: the gap fill resumes after the
last Connect item the conversation recorded, and deduplication covers the whole chat, not a recent window."""

from __future__ import annotations

import json
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from service import WorkerService, local_regions
from tests.connect_local.configs import config_with
from tests.service.conftest import Bot, Running
from tests.service.harness import events_of, of_type, wait_for

ITEMS = 2_000


def agent_api(running: Running, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{running.connect.endpoint_url}/agent/api/chats/{path}", data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def pulled(running: Running, conversation_id: str) -> list[dict[str, Any]]:
    """Every message of the conversation's pull stream, from the start."""
    messages: list[dict[str, Any]] = []
    after = 0
    while True:
        status, page = running.api.call("GET", f"/v1/conversations/{conversation_id}/events?after={after}")
        assert status == 200, page
        messages += page["Events"]
        if page["Next"] == after:
            return messages
        after = page["Next"]


def repeats(messages: list[dict[str, Any]]) -> int:
    """Agent messages told under more than one Id: the same Connect message told twice."""
    ids: dict[str, set[str]] = defaultdict(set)
    for message in messages:
        if message["Type"] == "AgentMessage":
            ids[message["ConnectMessageId"]].add(message["Id"])
    return sum(len(told) - 1 for told in ids.values())


def agent_messages(running: Running, conversation_id: str) -> int:
    return len(of_type(events_of(running.store, conversation_id), "AgentMessageReceived"))


def test_a_chat_of_2000_items_restarted_tells_the_bot_each_agent_message_once(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with(agents=[]))  # a human agent, driven through the agent API
    assert running.api.transfer("long-1", running.worker_id, DeliverTo=bot.url)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, "long-1"), "ConnectionOpened"), "the chat's socket")
    contact_id = running.service.state("long-1").chat.contact_id
    agent_api(running, f"{contact_id}/accept", {"AgentName": "Ana"})
    for n in range(ITEMS):
        agent_api(running, f"{contact_id}/messages", {"Content": f"agent message {n}"})
    wait_for(lambda: agent_messages(running, "long-1") == ITEMS, f"{ITEMS} agent messages recorded", timeout=120)

    running.service.stop()  # every actor and socket goes; the deliverer and the pull stream stay
    for n in range(ITEMS, ITEMS + 10):  # while the service is away
        agent_api(running, f"{contact_id}/messages", {"Content": f"agent message {n}"})
    restarted = WorkerService(running.store, local_regions(running.connect.endpoint_url)).start()
    try:
        wait_for(lambda: agent_messages(running, "long-1") >= ITEMS + 10, "the messages sent while away", timeout=60)
        told = wait_for(
            lambda: bot.received if sum(m["Type"] == "AgentMessage" for m in bot.received) >= ITEMS + 10 else None,
            "every agent message at the webhook",
            timeout=120,
        )
    finally:
        restarted.stop()

    recorded = [e.connect_message_id for e in of_type(events_of(running.store, "long-1"), "AgentMessageReceived")]
    assert len(recorded) == len(set(recorded)) == ITEMS + 10
    assert repeats(told) == 0
    stream = pulled(running, "long-1")
    assert repeats(stream) == 0 and sum(m["Type"] == "AgentMessage" for m in stream) == ITEMS + 10
    assert [m["Text"] for m in stream if m["Type"] == "AgentMessage"] == [f"agent message {n}" for n in range(ITEMS + 10)]
