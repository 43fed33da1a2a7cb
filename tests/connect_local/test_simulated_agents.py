"""Simulated agents: routing, join delay, scripts and capacity."""

from __future__ import annotations

from collections.abc import Callable

from connect_local import Config, LocalConnect
from connect_local.config import AgentConfig, ReplyRule
from tests.connect_local.clients import EVENT, Clients, is_event, is_message, wait_until
from tests.connect_local.configs import config_with

Start = Callable[[Config], LocalConnect]


def test_the_default_agent_joins_and_answers_each_message(start_server: Start) -> None:
    """Out of the box: Ana joins within a second and answers every message."""
    server = start_server(Config(regions=LocalConnect().config.regions))
    with Clients(server) as clients:
        chat = clients.start_chat()
        socket = chat.connect()
        joined = socket.wait_item(is_event("participant.joined", "AGENT"))
        assert joined["DisplayName"] == "Ana"
        for text in ("one", "two"):
            chat.send(text)
            socket.wait_item(is_message(f"You said: {text}", "AGENT"))


def test_messages_sent_while_the_chat_waited_are_answered_in_order_once_the_agent_joins(start_server: Start) -> None:
    agent = AgentConfig(name="Zoe", join_delay_seconds=0.3, greeting="Hi, I am {agent}.")
    server = start_server(config_with(agents=[agent]))
    with Clients(server) as clients:
        chat = clients.start_chat()
        socket = chat.connect()
        chat.send("anyone there?")
        chat.send("hello?")
        socket.wait_item(is_message("You said: hello?", "AGENT"))
        chat.send("thanks")
        socket.wait_item(is_message("You said: thanks", "AGENT"))
        agent_says = [i["Content"] for i in server.contact_record(chat.contact_id)["Items"] if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "AGENT"]
        assert agent_says == ["Hi, I am Zoe.", "You said: anyone there?", "You said: hello?", "You said: thanks"]


def test_an_agent_joins_after_its_delay_with_a_greeting(start_server: Start) -> None:
    agent = AgentConfig(name="Zoe", join_delay_seconds=0.2, greeting="Hi {customer}, I am {agent}.")
    server = start_server(config_with(agents=[agent]))
    with Clients(server) as clients:
        chat = clients.start_chat("Bob")
        socket = chat.connect()
        socket.wait_item(is_message("Hi Bob, I am Zoe.", "AGENT"))
        roles = [(i["ParticipantRole"], i["ContentType"]) for i in socket.items]
        assert roles[:2] == [("AGENT", EVENT + "participant.joined"), ("AGENT", "text/plain")]


def test_reply_rules_answer_first_and_can_end_the_chat(start_server: Start) -> None:
    agent = AgentConfig(
        name="Ana",
        join_delay_seconds=0,
        replies=[ReplyRule(contains="refund", reply="Refunds take 5 days."), ReplyRule(contains="bye", reply="Bye!", leave=True)],
        default_reply="Tell me more.",
    )
    server = start_server(config_with(agents=[agent]))
    with Clients(server) as clients:
        chat = clients.start_chat()
        socket = chat.connect()
        chat.send("I want a REFUND")
        socket.wait_item(is_message("Refunds take 5 days.", "AGENT"))
        chat.send("hmm")
        socket.wait_item(is_message("Tell me more.", "AGENT"))
        chat.send("ok bye")
        socket.wait_item(is_message("Bye!", "AGENT"))
        left = socket.wait_item(is_event("participant.left"))
        assert left["ParticipantRole"] == "AGENT"
        socket.wait_item(is_event("chat.ended"))


def test_an_agent_leaves_after_n_messages_with_a_farewell(start_server: Start) -> None:
    agent = AgentConfig(name="Ana", join_delay_seconds=0, leave_after_messages=2, farewell="Goodbye {customer}")
    server = start_server(config_with(agents=[agent]))
    with Clients(server) as clients:
        chat = clients.start_chat("Bob")
        socket = chat.connect()
        chat.send("a")
        socket.wait_item(is_message("You said: a", "AGENT"))
        chat.send("b")
        socket.wait_item(is_message("Goodbye Bob", "AGENT"))
        socket.wait_item(is_event("chat.ended"))
        answers = [i["Content"] for i in socket.items if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "AGENT"]
        assert answers == ["You said: a", "You said: b", "Goodbye Bob"]


def test_an_idle_agent_joins_and_never_answers(start_server: Start) -> None:
    server = start_server(config_with(agents=[AgentConfig(name="Ana", join_delay_seconds=0, idle=True, greeting="hello")]))
    with Clients(server) as clients:
        chat = clients.start_chat()
        socket = chat.connect()
        chat.send("anyone?")
        socket.wait_item(is_message("anyone?", "CUSTOMER"))
        clients.participant.send_event(ConnectionToken=chat.connection_token, ContentType="application/vnd.amazonaws.connect.event.typing")
        socket.wait_item(is_event("typing", "CUSTOMER"))
        record = server.contact_record(chat.contact_id)
        assert record["AgentName"] == "Ana"
        assert [i for i in record["Items"] if i["ParticipantRole"] == "AGENT" and i["Type"] == "MESSAGE"] == []


def test_chats_go_to_the_least_busy_agent_and_wait_when_all_are_full(start_server: Start) -> None:
    agents = [AgentConfig(name=name, join_delay_seconds=0, max_concurrent_chats=1) for name in ("Ana", "Ben")]
    server = start_server(config_with(agents=agents))
    with Clients(server) as clients:
        first, second, third = (clients.start_chat(f"C{n}") for n in range(3))
        assert wait_until(lambda: server.contact_record(second.contact_id)["AgentName"] is not None)
        names = {server.contact_record(c.contact_id)["AgentName"] for c in (first, second)}
        assert names == {"Ana", "Ben"}
        assert server.contact_record(third.contact_id)["State"] == "WAITING"

        first.connect()
        clients.participant.disconnect_participant(ConnectionToken=first.connection_token)

        assert wait_until(lambda: server.contact_record(third.contact_id)["State"] == "CONNECTED")
        assert server.contact_record(third.contact_id)["AgentName"] == server.contact_record(first.contact_id)["AgentName"]


def test_a_queue_without_agents_keeps_chats_waiting(start_server: Start) -> None:
    server = start_server(config_with(agents=[]))
    with Clients(server) as clients:
        chat = clients.start_chat()
        chat.connect()
        chat.send("hello?")
        record = server.contact_record(chat.contact_id)
        assert record["State"] == "WAITING"
        assert record["AgentName"] is None
