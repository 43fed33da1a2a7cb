"""A live conversation whose chat socket drops holds its auto-disconnect timers until the socket has
read again what Connect recorded meanwhile (its gap filled from the transcript), as after a restart
(tests/service/test_overdue_timer_after_restart.py; actors/README.md, "After a restart, Connect
first"). Before, a timer that fell due while the socket was reconnecting fired on what the service
knew before the drop: an agent who said goodbye and left in the gap was handed back `UserLeft`, the
bot hearing "are you still there?" after the goodbye.

The local Amazon Connect drops the socket; the service's new connection waits at a gate in the chat's
real participant client until the test has moved the injected clock past both timers and seen the
timer service tell them (its lateness metric), so they reach the conversation inside the gap."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import msgspec

from connect_client import ChatSocket, Participant
from connect_client.records import ParticipantConnection
from events.conversation_events import ConversationEvent
from events.worker_config import AutoDisconnectEvent
from service.demo_worker import demo_worker_config
from store.conversations import load_conversation
from store.workers import WorkerRegistry
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for
from tests.support.prometheus import scrape

RULES = [
    AutoDisconnectEvent(seconds_after_agent_message=60, type="WARNING", user_message="Are you still there?"),
    AutoDisconnectEvent(seconds_after_agent_message=120, type="DISCONNECT", user_message="Bye for now",
                        agent_message="The user went quiet"),
]


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class GatedReconnection:
    """The chat's real participant client, except that every new connection after the first waits
    until `open` is set (`asked` is set when one does)."""

    def __init__(self, participant: Participant, asked: threading.Event, open: threading.Event) -> None:
        self._participant = participant
        self._asked = asked
        self._open = open
        self._connections = 0

    def connect(self, participant_token: str) -> ParticipantConnection:
        self._connections += 1
        if self._connections > 1:
            self._asked.set()
            assert self._open.wait(30), "the test never let the reconnection through"
        return self._participant.connect(participant_token)

    def __getattr__(self, name: str) -> object:
        return getattr(self._participant, name)


def dropped_while_timers_fall_due(
    start_service: Callable[..., Running], in_the_gap: Callable[[Running, str], None]
) -> list[ConversationEvent]:
    """A conversation whose agent wrote last, so both timers are armed; its socket drops, `in_the_gap`
    (given the contact id) happens at Connect, both timers fall due and are told to the conversation,
    and only then does the socket reconnect. The conversation's events once it is handed back."""
    asked, gate = threading.Event(), threading.Event()

    def gated_socket(participant: Participant, *args: object, **kwargs: object) -> ChatSocket:
        return ChatSocket(GatedReconnection(participant, asked, gate), *args, **kwargs)  # type: ignore[arg-type]

    clock = Clock()
    running = start_service(clock=clock, socket_factory=gated_socket)
    try:
        demo = demo_worker_config(running.connect.ready_info())
        worker_id = WorkerRegistry(running.store).create(
            msgspec.structs.replace(demo, data=msgspec.structs.replace(demo.data, auto_disconnect_events=RULES)),
            at=clock.now,
        )
        admin = running.clients.create("prometheus", admin=True).token
        assert running.api.transfer("drop-1", worker_id)[0] == 201
        wait_for(lambda: of_type(events_of(running.store, "drop-1"), "AgentJoined")
                 and of_type(events_of(running.store, "drop-1"), "ConnectionOpened"), "Ana to join, the socket open")
        chat = load_conversation(running.store, "drop-1").chat
        assert chat is not None
        running.connect.model.agent_message(chat.contact_id, "Anything else?")
        armed = wait_for(lambda: len(of_type(events_of(running.store, "drop-1"), "TimerArmed")) == 2
                         and of_type(events_of(running.store, "drop-1"), "TimerArmed"), "the two timers armed")

        assert running.connect.drop_sockets(chat.contact_id) == 1
        wait_for(asked.is_set, "the socket to ask for a new connection")
        in_the_gap(running, chat.contact_id)
        clock.now = max(timer.due_at for timer in armed) + 1
        running.service.timers.poke()
        wait_for(lambda: scrape(running.api.url, admin).value("connect_worker_timer_lateness_seconds_count") == 2,
                 "both timers told to the conversation")
        gate.set()
        return wait_for(lambda: (found := events_of(running.store, "drop-1")) and of_type(found, "ReturnedToBot")
                        and found, "the hand-back")
    finally:
        gate.set()


def test_an_agent_who_left_while_the_socket_was_down_ends_the_chat_before_a_timer_fires(
    start_service: Callable[..., Running],
) -> None:
    def goodbye_and_leave(running: Running, contact_id: str) -> None:  # Connect ends the chat
        running.connect.model.agent_message(contact_id, "Goodbye.")
        running.connect.model.agent_leave(contact_id)

    events = dropped_while_timers_fall_due(start_service, goodbye_and_leave)
    assert "Goodbye." in [event.content for event in of_type(events, "AgentMessageReceived")]
    assert of_type(events, "ReturnedToBot")[0].session_end_reason == "AgentLeft"
    assert not of_type(events, "TimerFired") and not of_type(events, "UserNotified")


def test_with_nothing_new_at_connect_the_timers_fire_once_the_gap_is_filled(
    start_service: Callable[..., Running],
) -> None:
    """Held until the socket serves again, not for ever: the user stayed silent, so they fire, after it."""
    events = dropped_while_timers_fall_due(start_service, lambda running, contact_id: None)
    types = [type(event).__name__ for event in events]
    assert types.count("ConnectionOpened") == 2
    assert [fired.rule.kind for fired in of_type(events, "TimerFired")] == ["WARNING", "DISCONNECT"]
    assert types.index("TimerFired") > max(n for n, name in enumerate(types) if name == "ConnectionOpened")
    assert [notified.text for notified in of_type(events, "UserNotified")] == ["Are you still there?", "Bye for now"]
    assert of_type(events, "ReturnedToBot")[0].session_end_reason == "UserLeft"
