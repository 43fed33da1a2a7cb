"""Found by the crash harness under CPU load (`leaves-009` of seed 4100555867): five restarts in a
row each got a connection from Connect and were killed before their socket was subscribed and caught
up, which is when the connection token used to be recorded. The agent then said goodbye and left
while the service was down; the next start was refused a connection (the chat was over) and had no
token to read the chat's end with, so the bot heard nothing of it and got the hand-back with Error.
Here the first socket never opens (the crash came before), the chat ends, and the conversation's
actor starts again from its log: the token kept as soon as Connect gave it reads the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connect_client import ChatSocket
from connect_client.records import ParticipantConnection
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for


class NeverOpens(ChatSocket):
    """Gets its connection, then stops there: the service went before the socket was open."""

    def _open(self, connection: ParticipantConnection, renewal: bool) -> None:
        pass


class FirstSocketNeverOpens:
    def __init__(self) -> None:
        self.made: list[ChatSocket] = []

    def __call__(self, *args: Any, **kwargs: Any) -> ChatSocket:
        socket = (NeverOpens if not self.made else ChatSocket)(*args, **kwargs)
        self.made.append(socket)
        return socket


@pytest.fixture
def sockets() -> Iterator[FirstSocketNeverOpens]:
    made = FirstSocketNeverOpens()
    yield made
    for socket in made.made:
        socket.close()


def test_a_chat_that_ends_before_any_socket_served_it_is_still_read_to_its_end(
    start_service: Callable[..., Running], sockets: FirstSocketNeverOpens
) -> None:
    running = start_service(socket_factory=sockets)
    running.api.transfer("c-kept", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-kept"), "ChatStarted"), "the chat")
    contact_id = running.service.state("c-kept").chat.contact_id
    wait_for(lambda: running.connect.contact_record(contact_id)["AgentName"], "Ana to join at Connect")
    wait_for(lambda: running.service.state("c-kept").chat.connection_token, "the connection token kept")
    assert not of_type(events_of(running.store, "c-kept"), "ConnectionOpened")  # no socket ever served

    running.connect.model.agent_message(contact_id, "Goodbye.")
    running.connect.model.agent_leave(contact_id)
    supervisor = running.service.supervisor_of("c-kept")
    actor = supervisor.running_actor("c-kept")
    assert actor is not None
    actor.stop()  # as a restart: the next command starts the actor again from the log
    assert running.api.say("c-kept", "m-1", "hello?")[0] == 202

    events = wait_for(
        lambda: (found := events_of(running.store, "c-kept")) and of_type(found, "ReturnedToBot") and found,
        "the hand-back",
    )
    assert "Goodbye." in [event.content for event in of_type(events, "AgentMessageReceived")]
    assert of_type(events, "AgentLeft")
    assert of_type(events, "ReturnedToBot")[0].session_end_reason == "AgentLeft"
