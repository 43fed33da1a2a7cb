"""A SIGKILL of the service between the WARNING and the DISCONNECT changes nothing the user, the agent
or the bot can see: each timer fires once, at the due time its agent message set before the kill; one
that fell due while the service was down fires as soon as it is back and its chat's socket has read what
Connect recorded meanwhile (actors/README.md, "After a restart, Connect first").

One kill for two quiet chats (the agent speaks once, the user never answers), both with a 1 s WARNING:
`pending` has its DISCONNECT at 7 s, after the service is back; `overdue` at 3 s, while it is down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from events.conversation_events import ConversationEvent
from tests.crash.service_process import BotMessage
from tests.e2e.stage import (
    DEADLINE,
    DISCONNECT_TEXT,
    LATE,
    WARNING_AGENT,
    WARNING_USER,
    Stage,
    of_type,
    wait_for,
    wait_until_past,
)

WARNING_SECONDS = 1
DISCONNECT_SECONDS = {"pending": 7, "overdue": 3}

pytestmark = pytest.mark.timeout(120)


@dataclass
class Chat:
    contact_id: str
    agent_spoke_at: float  # Connect's time of the agent's message
    logged: list[ConversationEvent] = field(default_factory=list)
    told: list[BotMessage] = field(default_factory=list)  # what the bot was told, once each, in order
    record: dict[str, Any] = field(default_factory=dict)  # Connect's full record of the contact

    def timer(self, kind: str) -> Any:
        """The one timer of this kind the agent's message armed."""
        [armed] = [timer for timer in of_type(self.logged, "TimerArmed") if timer.rule.kind == kind]
        return armed

    def firings(self, timer_id: str) -> list[float]:
        return [event.at for event in of_type(self.logged, "TimerFired") if event.timer_id == timer_id]

    def caught_up_at(self, restarted_at: float) -> float:
        """When the chat's socket had caught up after the restart (its first `ConnectionOpened` since)."""
        return min(event.at for event in of_type(self.logged, "ConnectionOpened") if event.at >= restarted_at)

    def notified(self) -> list[str]:
        """The rules' UserMessages the bot was told."""
        return [told.text for told in self.told if told.type == "UserNotified"]

    def at_connect(self) -> list[str]:
        """The messages Connect holds from the customer's side: here, only the rules' AgentMessages."""
        return [item["Content"] for item in self.record["Items"]
                if item["ParticipantRole"] == "CUSTOMER" and item["Type"] == "MESSAGE"]


@dataclass
class Kill:
    killed_at: float
    restarted_at: float  # the new service process began
    listening_at: float  # it was listening again
    chats: dict[str, Chat]


@pytest.fixture(scope="module")
def kill(start_stage: Callable[[dict[str, tuple[int, int]]], Stage]) -> Kill:
    stage = start_stage({name: (WARNING_SECONDS, seconds) for name, seconds in DISCONNECT_SECONDS.items()})
    contacts = {name: stage.transfer(name, name) for name in DISCONNECT_SECONDS}
    chats = {name: Chat(contact, stage.agent_says(contact, "Hello, I am Hal.")) for name, contact in contacts.items()}
    for name, chat in chats.items():
        wait_for(lambda: "UserNotified" in stage.told_types(name), f"{name}'s WARNING to reach the bot", DEADLINE)
        wait_for(lambda: any(i.get("Content") == WARNING_AGENT for i in stage.connect.record(chat.contact_id)["Items"]),
                 f"{name}'s WARNING to reach the agent", DEADLINE)
    overdue = [t.due_at for t in of_type(stage.logged("overdue"), "TimerArmed") if t.rule.kind == "DISCONNECT"]
    killed_at = stage.service.kill()
    wait_until_past(max(overdue), "the overdue DISCONNECT's due time, with the service down")
    stage.service.start()
    for name, chat in chats.items():
        stage.settled(name)
        chat.logged = stage.logged(name)
        chat.told = stage.webhook.once_each(name)
        chat.record = stage.connect.record(chat.contact_id)
        warning, disconnect = chat.timer("WARNING"), chat.timer("DISCONNECT")
        assert chat.firings(warning.timer_id)[0] < killed_at < disconnect.due_at, f"{name}: not killed in between"
    return Kill(killed_at, stage.service.started_at, stage.service.listening_at, chats)


def test_a_warning_fired_before_the_kill_does_not_fire_again(kill: Kill) -> None:
    for name, chat in kill.chats.items():
        assert len(chat.firings(chat.timer("WARNING").timer_id)) == 1, name
        assert chat.notified().count(WARNING_USER) == 1, name
        assert chat.at_connect().count(WARNING_AGENT) == 1, name


def test_a_timer_pending_at_the_kill_fires_once_at_its_original_due_time(kill: Kill) -> None:
    chat = kill.chats["pending"]
    disconnect = chat.timer("DISCONNECT")
    assert disconnect.due_at >= chat.agent_spoke_at + DISCONNECT_SECONDS["pending"]
    assert all(timer.at < kill.killed_at for timer in of_type(chat.logged, "TimerArmed")), "re-armed after the kill"
    firings = chat.firings(disconnect.timer_id)
    assert len(firings) == 1
    assert chat.notified().count(DISCONNECT_TEXT) == chat.at_connect().count(DISCONNECT_TEXT) == 1
    # The service is back and its socket caught up well before the due time, unless the machine is very
    # slow to start it; then the timer was overdue and fires once the socket has caught up, which is the
    # other test's case.
    caught_up = chat.caught_up_at(kill.restarted_at)
    earliest, latest = max(disconnect.due_at, caught_up), max(disconnect.due_at, caught_up) + LATE
    assert earliest <= firings[0] <= latest, f"fired {firings[0] - disconnect.due_at:+.3f} s from its due time"
    returned = chat.told[-1]
    assert returned.type == "ReturnedToBot" and returned.arrived >= disconnect.due_at
    assert returned.context["SessionEndReason"] == "UserLeft"


def test_a_timer_overdue_at_the_restart_fires_at_once_and_once(kill: Kill) -> None:
    chat = kill.chats["overdue"]
    disconnect = chat.timer("DISCONNECT")
    assert disconnect.due_at < kill.restarted_at
    firings = chat.firings(disconnect.timer_id)
    assert len(firings) == 1
    assert chat.notified().count(DISCONNECT_TEXT) == chat.at_connect().count(DISCONNECT_TEXT) == 1
    caught_up = chat.caught_up_at(kill.restarted_at)
    assert kill.restarted_at <= caught_up <= firings[0] <= caught_up + LATE, (
        f"fired {firings[0] - caught_up:+.3f} s from its socket catching up after the restart "
        f"({caught_up - kill.listening_at:+.3f} s from the service listening again)")
    returned = chat.told[-1]
    assert returned.type == "ReturnedToBot"
    assert returned.context["SessionEndReason"] == "UserLeft"
