"""Found by the crash harness under CPU load (`ana-000`, `failover-013` of seeds 4100555867 and
2174320338): the agent answers, Connect records it, and the service leaves the chat (the user left,
or the DISCONNECT rule fired) before its socket has told the actor of the answer. The hand-back was
decided from DisconnectParticipant's acknowledgement, so the answer, still in the socket or in the
actor's mailbox behind the effect, was dropped: Connect held it, the bot was never told. Here the
socket holds the answer back on purpose until the conversation is over, so the race is always lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from connect_client import ChatItem, ChatSocket, ItemKind
from connect_local.config import AgentConfig
from tests.connect_local.configs import config_with
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for

QUICK_ANA = AgentConfig(name="Ana", join_delay_seconds=0)


class HeldAnswers:
    """A socket factory whose sockets hold back (never tell their owner) any agent message."""

    def __init__(self) -> None:
        self.held: list[ChatItem] = []
        self._lock = threading.Lock()

    def __call__(self, *args: Any, on_item: Callable[[ChatItem], None], **kwargs: Any) -> ChatSocket:
        def gated(item: ChatItem) -> None:
            if item.kind is ItemKind.MESSAGE and item.participant_role == "AGENT" and "ping" in (item.content or ""):
                with self._lock:
                    self.held.append(item)
                return
            on_item(item)

        return ChatSocket(*args, on_item=gated, **kwargs)

    def texts(self) -> list[str]:
        with self._lock:
            return [item.content or "" for item in self.held]


def test_an_answer_connect_recorded_before_the_user_left_reaches_the_bot(start_service: Callable[..., Running]) -> None:
    sockets = HeldAnswers()
    running = start_service(config_with([QUICK_ANA]), socket_factory=sockets)
    running.api.transfer("c-last", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-last"), "ConnectionOpened"), "the socket to serve the chat")

    assert running.api.say("c-last", "m-1", "ping")[0] == 202
    wait_for(lambda: "You said: ping" in sockets.texts(), "Ana's answer at the socket, held back")
    assert running.api.call("POST", "/v1/conversations/c-last/leave")[0] == 202

    events = wait_for(
        lambda: (found := events_of(running.store, "c-last")) and of_type(found, "ReturnedToBot") and found,
        "the hand-back",
    )
    told = [event.content for event in of_type(events, "AgentMessageReceived")]
    assert "You said: ping" in told, told
    names = [type(event).__name__ for event in events]
    assert names.index("AgentMessageReceived") < names.index("Disconnected") < names.index("ReturnedToBot")
    assert of_type(events, "ReturnedToBot")[0].session_end_reason == "UserLeft"
