"""After a restart, what happened at Connect while the service was down is read before an overdue
auto-disconnect timer decides anything. Found by the crash harness (`leaves-002`, bench/README.md,
"Findings" 4): the agent said goodbye and left while the service was down; on restart recovery
scheduled the timers first, the overdue ones fired before the socket had read the chat's end, and
the conversation was handed back UserLeft (the DISCONNECT had been asked for), the bot hearing
"are you still there?" after the agent's goodbye. The clock is injected: the timers fall due while
the service is down without anyone waiting for them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from commands.runtime import running_service
from connect_client import ChatSocket, SocketStopped, StopReason
from connect_local import Config, LocalConnect
from events.conversation_events import ConversationEvent
from events.worker_config import AutoDisconnectEvent
from service import local_regions
from service.demo_worker import demo_worker_config
from store import EventStore
from store.conversations import load_conversation
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.harness import Api, events_of, of_type, wait_for


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


RULES = [
    AutoDisconnectEvent(seconds_after_agent_message=60, type="WARNING", user_message="Are you still there?"),
    AutoDisconnectEvent(seconds_after_agent_message=120, type="DISCONNECT", user_message="Bye for now",
                        agent_message="The user went quiet"),
]


def restarted_with_overdue_timers(
    tmp_path: Path,
    connect: LocalConnect,
    while_down: Callable[[str], None],
    socket_factory: Callable[..., ChatSocket] = ChatSocket,
    until: str = "ReturnedToBot",
) -> list[ConversationEvent]:
    """A conversation whose agent wrote last, so both timers are armed; the service stops, `while_down`
    (given the contact id) happens at Connect, both timers fall due, and the service starts again on the
    same log with `socket_factory`. The conversation's events once they hold `until` (the hand-back)."""
    clock = Clock()
    demo = demo_worker_config(connect.ready_info())
    with EventStore.open(tmp_path / "events.db") as store:
        worker_id = WorkerRegistry(store).create(
            msgspec.structs.replace(demo, data=msgspec.structs.replace(demo.data, auto_disconnect_events=RULES)),
            at=clock.now,
        )
        with running_service(store, local_regions(connect.endpoint_url), clock=clock) as served:
            api = Api(served.api_url, served.clients.create("bot").token)
            assert api.transfer("overdue-1", worker_id)[0] == 201
            wait_for(lambda: of_type(events_of(store, "overdue-1"), "AgentJoined")
                     and of_type(events_of(store, "overdue-1"), "ConnectionOpened"), "Ana to join, the socket open")
            chat = load_conversation(store, "overdue-1").chat
            assert chat is not None
            connect.model.agent_message(chat.contact_id, "Anything else?")
            armed = wait_for(lambda: len(of_type(events_of(store, "overdue-1"), "TimerArmed")) == 2
                             and of_type(events_of(store, "overdue-1"), "TimerArmed"), "the two timers armed")
        while_down(chat.contact_id)
        clock.now = max(timer.due_at for timer in armed) + 1
        with running_service(store, local_regions(connect.endpoint_url), clock=clock, socket_factory=socket_factory):
            return wait_for(lambda: (found := events_of(store, "overdue-1")) and of_type(found, until) and found, until)


def test_an_agent_who_left_while_the_service_was_down_ends_the_chat_before_an_overdue_timer_fires(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect]
) -> None:
    connect = start_server(config_with())

    def goodbye_and_leave(contact_id: str) -> None:  # Connect ends the chat
        connect.model.agent_message(contact_id, "Goodbye.")
        connect.model.agent_leave(contact_id)

    events = restarted_with_overdue_timers(tmp_path, connect, goodbye_and_leave)
    assert "Goodbye." in [event.content for event in of_type(events, "AgentMessageReceived")]
    assert of_type(events, "AgentLeft")
    assert of_type(events, "ReturnedToBot")[0].session_end_reason == "AgentLeft"
    assert not of_type(events, "TimerFired") and not of_type(events, "UserNotified")


def test_with_nothing_new_at_connect_the_overdue_timers_fire_once_the_chat_is_read(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect]
) -> None:
    """The timers wait for the socket to catch up, not for ever: the user stayed silent, so they fire."""
    events = restarted_with_overdue_timers(tmp_path, start_server(config_with()), lambda contact_id: None)
    assert [fired.rule.kind for fired in of_type(events, "TimerFired")] == ["WARNING", "DISCONNECT"]
    assert [notified.text for notified in of_type(events, "UserNotified")] == ["Are you still there?", "Bye for now"]
    assert of_type(events, "ReturnedToBot")[0].session_end_reason == "UserLeft"


class StopsAtOnce:
    """A chat socket that stops as it starts, having read nothing: it will tell nothing more."""

    def __init__(self, *args: object, on_state: Callable[[object], None], **kwargs: object) -> None:
        self._on_state = on_state

    def start(self) -> StopsAtOnce:
        self._on_state(SocketStopped(StopReason.CLOSED, "stopped at once"))
        return self

    def close(self) -> None:
        pass


def test_a_socket_that_stops_holds_no_timer(tmp_path: Path, start_server: Callable[[Config], LocalConnect]) -> None:
    """Nothing more can be read: the overdue timers decide at once (their effects wait for a connection)."""
    events = restarted_with_overdue_timers(tmp_path, start_server(config_with()), lambda contact_id: None,
                                           socket_factory=StopsAtOnce, until="DisconnectRequested")
    assert [fired.rule.kind for fired in of_type(events, "TimerFired")] == ["WARNING", "DISCONNECT"]
