"""The agent HTTP API, exactly as the agent page relies on it."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from connect_local import Config, LocalConnect
from connect_local.agent_api import STATIC_DIR
from connect_local.config import AgentConfig
from tests.connect_local.clients import Clients, is_event, is_message
from tests.connect_local.configs import config_with


@pytest.fixture
def humans(start_server: Callable[[Config], LocalConnect]) -> Iterator[Clients]:
    """A server whose queue has no simulated agent: chats wait for a human."""
    with Clients(start_server(config_with(agents=[]))) as clients:
        yield clients


def chat_path(contact_id: str, action: str) -> str:
    return f"/agent/api/chats/{contact_id}/{action}"


def test_chats_are_listed_newest_first_with_their_state(humans: Clients) -> None:
    older = humans.start_chat("Ann")
    newer = humans.start_chat("Ben")
    older.connect()
    older.send("first words")

    status, body = humans.http("GET", "/agent/api/chats")

    assert status == 200
    info = humans.server.ready_info()
    assert body["chats"] == [
        {
            "ContactId": newer.contact_id, "InstanceId": info["instance_id"], "Region": "us-east-1",
            "QueueId": info["queue_id"], "State": "WAITING", "CustomerName": "Ben", "AgentName": None, "LastMessage": None,
        },
        {
            "ContactId": older.contact_id, "InstanceId": info["instance_id"], "Region": "us-east-1",
            "QueueId": info["queue_id"], "State": "WAITING", "CustomerName": "Ann", "AgentName": None,
            "LastMessage": "first words",
        },
    ]


def test_a_human_accepts_talks_types_and_leaves(humans: Clients) -> None:
    chat = humans.start_chat("Bob")
    socket = chat.connect()

    assert humans.http("POST", chat_path(chat.contact_id, "accept"), {"AgentName": "Maria"}) == (
        200, {"ContactId": chat.contact_id, "State": "CONNECTED", "AgentName": "Maria"},
    )
    assert socket.wait_item(is_event("participant.joined", "AGENT"))["DisplayName"] == "Maria"

    status, sent = humans.http("POST", chat_path(chat.contact_id, "messages"), {"Content": "hello", "ContentType": "text/plain"})
    assert status == 200
    received = socket.wait_item(is_message("hello", "AGENT"))
    assert (received["Id"], received["AbsoluteTime"]) == (sent["Id"], sent["AbsoluteTime"])

    assert humans.http("POST", chat_path(chat.contact_id, "typing")) == (200, {})
    socket.wait_item(is_event("typing", "AGENT"))

    chat.send("thanks")
    transcript = humans.http("GET", chat_path(chat.contact_id, "transcript"))[1]["Items"]
    assert [i.get("Content") for i in transcript if i["Type"] == "MESSAGE"] == ["hello", "thanks"]
    from_boto = chat.transcript(ScanDirection="FORWARD", MaxResults=100)["Transcript"]
    assert [(i["Id"], i.get("Content")) for i in transcript] == [(i["Id"], i.get("Content")) for i in from_boto]

    assert humans.http("POST", chat_path(chat.contact_id, "leave")) == (200, {})
    left = socket.wait_item(is_event("participant.left"))
    ended = socket.wait_item(is_event("chat.ended"))
    assert left["DisplayName"] == "Maria"
    assert socket.items.index(left) < socket.items.index(ended)
    assert humans.http("GET", "/agent/api/chats")[1]["chats"][0]["State"] == "ENDED"


def test_accepting_twice_or_an_ended_chat_is_a_conflict(humans: Clients) -> None:
    chat = humans.start_chat()
    assert humans.http("POST", chat_path(chat.contact_id, "accept"), {"AgentName": "Maria"})[0] == 200
    status, body = humans.http("POST", chat_path(chat.contact_id, "accept"), {"AgentName": "Other"})
    assert status == 409
    assert body["message"]

    ended = humans.start_chat()
    ended.connect()
    humans.participant.disconnect_participant(ConnectionToken=ended.connection_token)
    assert humans.http("POST", chat_path(ended.contact_id, "accept"), {"AgentName": "Maria"})[0] == 409


def test_unknown_chats_are_404_and_bad_bodies_400(humans: Clients) -> None:
    assert humans.http("POST", chat_path("missing", "accept"), {"AgentName": "Maria"})[0] == 404
    assert humans.http("GET", chat_path("missing", "transcript"))[0] == 404
    chat = humans.start_chat()
    status, body = humans.http("POST", chat_path(chat.contact_id, "accept"), {})
    assert status == 400
    assert "AgentName" in body["message"]



def test_a_path_or_method_no_route_takes_is_answered_in_the_json_error_shape(humans: Clients) -> None:
    chat = humans.start_chat()
    assert humans.http("GET", f"/agent/api/chats/{chat.contact_id}") == (
        404, {"message": f"no route here serves GET /agent/api/chats/{chat.contact_id}"},
    )
    assert humans.http("DELETE", chat_path(chat.contact_id, "accept")) == (
        405, {"message": f"no route here takes DELETE /agent/api/chats/{chat.contact_id}/accept"},
    )

def test_messages_need_an_accepted_chat(humans: Clients) -> None:
    chat = humans.start_chat()
    assert humans.http("POST", chat_path(chat.contact_id, "messages"), {"Content": "hi"})[0] == 409


def test_a_chat_taken_by_a_human_is_not_answered_by_the_simulated_agent(start_server: Callable[[Config], LocalConnect]) -> None:
    slow_ana = AgentConfig(name="Ana", join_delay_seconds=0.3)
    with Clients(start_server(config_with(agents=[slow_ana]))) as clients:
        chat = clients.start_chat()
        socket = chat.connect()
        assert clients.http("POST", chat_path(chat.contact_id, "accept"), {"AgentName": "Maria"})[0] == 200
        chat.send("are you a bot?")
        clients.http("POST", chat_path(chat.contact_id, "messages"), {"Content": "no, human"})
        socket.wait_item(is_message("no, human", "AGENT"))
        other = clients.start_chat()
        other_socket = other.connect()
        # Ana is free again once she gave up the taken chat: she takes the next one.
        other_socket.wait_item(is_event("participant.joined", "AGENT"))
        record = clients.server.contact_record(chat.contact_id)
        agents = {i["DisplayName"] for i in record["Items"] if i["ParticipantRole"] == "AGENT"}
        assert agents == {"Maria"}


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_agent_page_is_served_or_404_until_it_exists(humans: Clients) -> None:
    page_exists = (STATIC_DIR / "agent.html").is_file()
    assert status_of(humans.server.endpoint_url + "/agent") == (200 if page_exists else 404)
    assert status_of(humans.server.endpoint_url + "/agent/static/..%2Fmodel.py") == 404
    assert status_of(humans.server.endpoint_url + "/agent/static/.hidden") == 404
