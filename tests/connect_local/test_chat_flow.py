"""One chat from start to end, as a customer client sees it."""

from __future__ import annotations

import json

import pytest

from tests.connect_local.clients import EVENT, Clients, is_event, is_message, wait_until


def test_a_customer_message_is_echoed_and_the_simulated_agent_answers(clients: Clients) -> None:
    chat = clients.start_chat("Bob")
    socket = chat.connect()

    sent = chat.send("Where is my order?")

    echo = socket.wait_item(is_message("Where is my order?", "CUSTOMER"))
    assert echo["Id"] == sent["Id"]
    assert echo["AbsoluteTime"] == sent["AbsoluteTime"]
    assert echo["ContactId"] == echo["InitialContactId"] == chat.contact_id
    assert echo["ParticipantId"] == chat.participant_id
    reply = socket.wait_item(is_message("You said: Where is my order?", "AGENT"))
    assert reply["DisplayName"] == "Ana"


def test_subscribe_is_answered_with_status_and_topics(clients: Clients) -> None:
    socket = clients.start_chat().connect(subscribe=False)
    socket.send({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}})
    assert socket.wait_frame(lambda f: f["topic"] == "aws/subscribe") == {
        "topic": "aws/subscribe",
        "content": {"status": "success", "topics": ["aws/chat"]},
    }


def test_a_subscribe_without_topics_fails(clients: Clients) -> None:
    socket = clients.start_chat().connect(subscribe=False)
    socket.send({"topic": "aws/subscribe", "content": {}})
    answer = socket.wait_frame(lambda f: f["topic"] == "aws/subscribe")
    assert answer["content"]["status"] == "failure"


def test_heartbeat_is_echoed_and_ping_answered_with_200(clients: Clients) -> None:
    socket = clients.start_chat().connect()
    socket.send({"topic": "aws/ping"})
    assert socket.wait_frame(lambda f: f["topic"] == "aws/ping") == {"topic": "aws/ping", "statusCode": 200}
    socket.send({"topic": "aws/heartbeat"})
    assert socket.wait_frame(lambda f: f["topic"] == "aws/heartbeat") == {"topic": "aws/heartbeat"}


def test_chat_frames_carry_their_item_as_a_json_string(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()
    chat.send("hello")
    frame = socket.wait_frame(lambda f: f["topic"] == "aws/chat" and "hello" in f["content"])
    assert frame["contentType"] == "application/json"
    assert json.loads(frame["content"])["Content"] == "hello"


def test_the_websocket_url_is_a_loopback_ws_url_with_its_credential(clients: Clients) -> None:
    chat = clients.start_chat()
    answer = clients.participant.create_participant_connection(Type=["WEBSOCKET"], ParticipantToken=chat.participant_token)
    assert answer["Websocket"]["Url"].startswith(f"ws://127.0.0.1:{clients.server.port}/?X-Amz-Security-Token=")
    assert "ConnectionCredentials" not in answer


def test_disconnect_sends_participant_left_then_chat_ended_and_closes(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()

    clients.participant.disconnect_participant(ConnectionToken=chat.connection_token)

    left = socket.wait_item(is_event("participant.left"))
    ended = socket.wait_item(is_event("chat.ended"))
    assert left["ParticipantRole"] == "CUSTOMER"
    assert socket.items.index(left) < socket.items.index(ended)
    assert socket.wait_closed() == 1000


def test_after_the_chat_ended_a_new_connection_is_refused_with_403(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    clients.participant.disconnect_participant(ConnectionToken=chat.connection_token)

    with pytest.raises(clients.participant.exceptions.AccessDeniedException):
        clients.participant.create_participant_connection(Type=["WEBSOCKET"], ParticipantToken=chat.participant_token)
    with pytest.raises(clients.participant.exceptions.AccessDeniedException):
        chat.send("anyone there?")


def test_the_initial_message_and_joins_are_in_the_transcript(clients: Clients) -> None:
    chat = clients.start_chat("Bob", InitialMessage={"ContentType": "text/plain", "Content": "I need help"})
    chat.connect()
    # Sent while the chat waited: answered once the agent joined.
    assert wait_until(lambda: len(chat.transcript(ScanDirection="FORWARD")["Transcript"]) >= 4)
    items = chat.transcript(ScanDirection="FORWARD")["Transcript"]

    kinds = [(i["ParticipantRole"], i.get("Content") or i["ContentType"].removeprefix(EVENT)) for i in items]
    assert kinds == [
        ("CUSTOMER", "participant.joined"),
        ("CUSTOMER", "I need help"),
        ("AGENT", "participant.joined"),
        ("AGENT", "You said: I need help"),
    ]


def test_stop_contact_ends_the_chat_for_the_customer(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()
    info = clients.server.ready_info()

    clients.connect.stop_contact(InstanceId=info["instance_id"], ContactId=chat.contact_id)

    socket.wait_item(is_event("chat.ended"))
    with pytest.raises(clients.connect.exceptions.ContactNotFoundException):
        clients.connect.stop_contact(InstanceId=info["instance_id"], ContactId=chat.contact_id)


def test_a_socket_that_never_subscribed_gets_no_chat_frames_and_closes_with_the_chat(clients: Clients) -> None:
    chat = clients.start_chat()
    silent = chat.connect(subscribe=False)
    chat.send("unseen")
    clients.connect.stop_contact(InstanceId=clients.server.ready_info()["instance_id"], ContactId=chat.contact_id)
    assert silent.wait_closed() == 1000
    assert silent.items == []
