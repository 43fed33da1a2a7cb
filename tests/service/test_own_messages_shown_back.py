"""Connect shows the chat's customer (the worker) every message it sends. Such a message records
nothing, so the conversation's socket does not hand it to the actor at all: one hand-off from the
socket hub to a pool thread fewer for each bot message (bench/README.md, "Fewer hand-offs")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from connect_client import ItemKind
from connect_local.config import AgentConfig
from tests.connect_local.configs import config_with
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for

QUICK_ANA = AgentConfig(name="Ana", join_delay_seconds=0)


def test_the_workers_own_messages_never_reach_the_actor_and_the_agents_answer_does(
    start_service: Callable[..., Running],
) -> None:
    running = start_service(config_with([QUICK_ANA]))
    running.api.transfer("c-own", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-own"), "ConnectionOpened"), "the socket to serve the chat")
    inbox = wait_for(lambda: running.service.running_actor("c-own"), "the conversation's actor").actor_inbox
    told: list[Any] = []
    lock = threading.Lock()
    put = inbox.put

    def recording(envelope: Any) -> None:
        with lock:
            told.append(envelope.message)
        put(envelope)

    inbox.put = recording  # type: ignore[method-assign]
    assert running.api.say("c-own", "m-1", "ping")[0] == 202

    # The socket reads Connect's items in order: the message shown back comes before the answer to it.
    wait_for(
        lambda: [event.content for event in of_type(events_of(running.store, "c-own"), "AgentMessageReceived")]
        == ["You said: ping"],
        "the agent's answer recorded",
    )
    with lock:
        items = [message.item for message in told if hasattr(message, "item")]
    said = [(item.participant_role, item.content) for item in items if item.kind is ItemKind.MESSAGE]
    assert said == [("AGENT", "You said: ping")]
    sent = of_type(events_of(running.store, "c-own"), "UserMessageSent")
    assert len(sent) == 1, "the bot's message reached Connect once"
