"""A conversation end to end: the bot's HTTP API, the service, the local Amazon Connect."""

from __future__ import annotations

import functools
import json
import time
import urllib.request
from collections.abc import Callable

import msgspec
import pytest

from connect_client import Backoff, ChatSocket, SocketSettings
from connect_local.config import AgentConfig, ReplyRule
from events import handback
from service.demo_worker import demo_worker_config
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.conftest import Bot, Running
from tests.service.harness import events_of, of_type, wait_for

LEAVING_ANA = AgentConfig(
    name="Ana",
    join_delay_seconds=0,
    replies=[ReplyRule(contains="bye", reply="Bye!", leave=True)],
)

# Answers briefly: an echo of a piece at Connect's limit would itself be over it.
BRIEF_ANA = AgentConfig(name="Ana", join_delay_seconds=0, default_reply="Noted.")


def customer_messages(running: Running, contact_id: str) -> list[dict]:
    record = running.connect.contact_record(contact_id)
    return [item for item in record["Items"] if item["Type"] == "MESSAGE" and item["ParticipantRole"] == "CUSTOMER"]


def test_transfer_relay_both_ways_and_agent_leaves(start_service: Callable[..., Running]) -> None:
    running = start_service(config_with([LEAVING_ANA]))
    status, conversation = running.api.transfer("c-1", running.worker_id, Context={"name": "Dana", "plan": "gold"})
    assert status == 201, conversation
    assert conversation["DisplayName"] == "Dana"
    wait_for(lambda: of_type(events_of(running.store, "c-1"), "AgentJoined"), "Ana to join")

    status, answer = running.api.say("c-1", "m-1", "where is my order")
    assert status == 202, answer
    contact_id = running.service.state("c-1").chat.contact_id
    reply = wait_for(
        lambda: [e for e in of_type(events_of(running.store, "c-1"), "AgentMessageReceived") if "order" in e.content],
        "Ana's reply",
    )
    assert reply[0].content == "You said: where is my order"
    sent = customer_messages(running, contact_id)
    requested = of_type(events_of(running.store, "c-1"), "UserMessageRequested")[0]
    assert [(m["Content"], m["ClientToken"]) for m in sent] == [("where is my order", requested.client_token)]

    running.api.say("c-1", "m-2", "bye now")
    returned = wait_for(lambda: of_type(events_of(running.store, "c-1"), "ReturnedToBot"), "the hand-back")[0]
    context = handback(returned)
    assert context["SessionEndReason"] == "AgentLeft"
    assert context["LastKnownAgent"] == {"AgentName": "Ana"}
    assert "Error" not in context
    # The state API shows the last known agent in the hand-back's shape.
    state = running.api.call("GET", "/v1/conversations/c-1")[1]
    assert (state["LastKnownAgent"], state["Error"]) == ({"AgentName": "Ana"}, None)
    assert context["plan"] == "gold"
    record = running.connect.contact_record(contact_id)
    assert record["Attributes"]["plan"] == "gold"
    assert {m["DisplayName"] for m in customer_messages(running, contact_id)} == {"Dana"}


def test_a_message_to_an_ended_conversation_is_refused_with_its_code(running: Running) -> None:
    running.api.transfer("c-2", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-2"), "AgentJoined"), "Ana to join")
    status, _ = running.api.call("POST", "/v1/conversations/c-2/leave")
    assert status == 202
    wait_for(lambda: of_type(events_of(running.store, "c-2"), "ReturnedToBot"), "the hand-back")
    status, error = running.api.say("c-2", "m-9", "hello?")
    assert (status, error["Code"]) == (409, "conversation_ended")
    assert running.service.state("c-2").end_reason == "UserLeft"


def test_a_repeated_message_id_is_a_retry_with_the_same_message_and_409_with_another(running: Running) -> None:
    status, _ = running.api.transfer("c-repeat", running.worker_id)
    assert status == 201
    assert running.api.say("c-repeat", "m-1", "where is my order")[0] == 202
    version = running.service.state("c-repeat").version

    status, again = running.api.say("c-repeat", "m-1", "where is my order")
    assert status == 202 and again["Version"] >= version, again
    status, error = running.api.say("c-repeat", "m-1", "cancel my order")
    assert (status, set(error), error["Code"]) == (409, {"Code", "Message"}, "idempotency_conflict"), error
    assert error["Message"].startswith("$.MessageId: 'm-1' was already used for a message with a different Text")
    status, error = running.api.call(
        "POST", "/v1/conversations/c-repeat/messages",
        {"MessageId": "m-1", "Text": "where is my order", "ContentType": "text/markdown"},
    )
    assert (status, error["Code"]) == (409, "idempotency_conflict") and "different ContentType" in error["Message"]

    sent = of_type(events_of(running.store, "c-repeat"), "UserMessageRequested")
    assert [(event.bot_message_id, event.text) for event in sent] == [("m-1", "where is my order")]


def test_the_user_leaves_and_connect_sees_the_disconnect(running: Running) -> None:
    running.api.transfer("c-3", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-3"), "AgentJoined"), "Ana to join")
    status, _ = running.api.call("POST", "/v1/conversations/c-3/leave")
    assert status == 202
    returned = wait_for(lambda: of_type(events_of(running.store, "c-3"), "ReturnedToBot"), "the hand-back")[0]
    assert returned.session_end_reason == "UserLeft"
    contact_id = running.service.state("c-3").chat.contact_id
    record = running.connect.contact_record(contact_id)
    left = [i for i in record["Items"] if i["ContentType"].endswith("participant.left") and i["ParticipantRole"] == "CUSTOMER"]
    requested = of_type(events_of(running.store, "c-3"), "DisconnectRequested")[0]
    assert len(left) == 1 and left[0]["ClientToken"] == requested.client_token
    assert record["State"] == "ENDED"
    wait_for(lambda: running.service.supervisor_of("c-3").running_actor("c-3") is None, "the handed-back actor to stop")


def test_connect_refusing_the_chat_hands_the_conversation_back_with_error_and_why(running: Running, bot: Bot) -> None:
    config = demo_worker_config({**running.connect.ready_info(), "instance_id": "no-such-instance"})
    broken = WorkerRegistry(running.store).create(msgspec.structs.replace(config, name="broken"), at=time.time())
    status, _ = running.api.transfer("c-4", broken, DeliverTo=bot.url)
    assert status == 201
    [told] = wait_for(lambda: [m for m in bot.received if m["Type"] == "ReturnedToBot"], "the hand-back at the webhook")
    context = told["Context"]
    assert (context["SessionEndReason"], context["ParticipantId"], context["LastKnownAgent"]) == ("Error", None, None)
    assert context["Error"]["Code"] == "ResourceNotFoundException"
    assert "no-such-instance" in context["Error"]["Message"]
    assert of_type(events_of(running.store, "c-4"), "ChatStartFailed")
    status, state = running.api.call("GET", "/v1/conversations/c-4")
    assert status == 200 and state["Error"] == context["Error"] and state["LastKnownAgent"] is None


def test_a_socket_drop_mid_chat_loses_and_doubles_nothing(running: Running, caplog: pytest.LogCaptureFixture) -> None:
    running.api.transfer("c-5", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-5"), "AgentJoined"), "Ana to join")
    contact_id = running.service.state("c-5").chat.contact_id

    def connections() -> int:
        return len(of_type(events_of(running.store, "c-5"), "ConnectionOpened"))

    def serving(connection: int) -> bool:
        # ConnectionOpened comes once the socket is subscribed and caught up; a socket that is merely
        # open at Connect may still be subscribing, and a drop then is a failed reconnection, not a
        # second drop mid-chat. Connect must also have let go of the socket dropped before.
        return connections() == connection and running.connect.open_sockets(contact_id) == 1

    texts = [f"message {n}" for n in range(6)]
    for n, text in enumerate(texts):
        if n in (2, 4):
            connection = n // 2
            wait_for(lambda: serving(connection), f"connection {connection} serving the chat")
            assert running.connect.drop_sockets(contact_id) == 1
        assert running.api.say("c-5", f"m-{n}", text)[0] == 202

    def replies() -> list[str]:
        return [e.content for e in of_type(events_of(running.store, "c-5"), "AgentMessageReceived")]

    wait_for(lambda: len(replies()) >= len(texts) and serving(3), "every reply, on connection 3")
    assert sorted(replies()) == sorted(f"You said: {text}" for text in texts)
    assert [m["Content"] for m in customer_messages(running, contact_id)] == texts
    # An operator sees why the socket was re-established.
    assert any("conversation c-5: chat socket retry" in record.getMessage() for record in caplog.records)


def test_bad_requests_say_what_is_wrong(running: Running) -> None:
    status, error = running.api.transfer("c-6", "no-such-worker")
    assert (status, error["Code"]) == (404, "unknown_worker") and "no-such-worker" in error["Message"]
    status, error = running.api.call("POST", "/v1/conversations", {"ConversationId": "c-6", "WorkerId": 7, "BotName": "B"})
    assert status == 400 and "$.WorkerId" in error["Message"]
    status, error = running.api.call("POST", "/v1/conversations", raw=b"{nope")
    assert (status, error["Code"]) == (400, "invalid_body")
    status, error = running.api.say("nobody", "m-1", "hi")
    assert (status, error["Code"]) == (404, "unknown_conversation")
    assert running.api.call("GET", "/v1/conversations/nobody")[0] == 404
    status, error = running.api.call("GET", "/v1/conversations?live=true", token="wrong")
    assert status == 401
    config = demo_worker_config(running.connect.ready_info())
    disabled = WorkerRegistry(running.store).create(msgspec.structs.replace(config, name="off", enabled=False), at=time.time())
    status, error = running.api.transfer("c-7", disabled)
    assert (status, error["Code"]) == (409, "worker_disabled") and "off" in error["Message"]
    assert running.api.call("GET", "/v1/conversations?live=true") == (200, {"Conversations": []})


def test_a_refused_transfer_keeps_nothing_and_the_id_can_be_handed_over_after(running: Running) -> None:
    status, error = running.api.transfer("c-11", running.worker_id, BotName="B" * 300)  # no usable display name
    assert (status, error["Code"]) == (400, "invalid_display_name")
    # Kept, each refused id would hold an actor (and in a cluster a lease renewed at every pass) for ever.
    assert running.service.running_actor("c-11") is None

    assert running.api.transfer("c-11", running.worker_id)[0] == 201
    assert running.service.running_actor("c-11") is not None


def test_the_state_and_the_live_list_show_no_token(running: Running) -> None:
    running.api.transfer("c-8", running.worker_id)
    wait_for(lambda: running.api.call("GET", "/v1/conversations/c-8")[1]["Phase"] == "connected", "the chat to connect")
    status, state = running.api.call("GET", "/v1/conversations/c-8")
    assert status == 200 and state["ContactId"] and "ParticipantToken" not in state
    assert running.api.call("GET", "/v1/conversations?live=true") == (200, {"Conversations": ["c-8"]})
    with urllib.request.urlopen(running.api.url + "/openapi.json", timeout=5) as answer:
        assert json.loads(answer.read())["openapi"] == "3.1.0"


def test_a_dead_conversation_actor_is_restarted_from_its_stream(running: Running) -> None:
    running.api.transfer("c-9", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-9"), "AgentJoined"), "Ana to join")
    supervisor = running.service.supervisor_of("c-9")
    actor = supervisor.running_actor("c-9")
    assert actor is not None
    actor.stop()
    assert supervisor.running_actor("c-9") is None
    assert running.api.say("c-9", "m-1", "still there?")[0] == 202
    wait_for(
        lambda: [e for e in of_type(events_of(running.store, "c-9"), "AgentMessageReceived") if "still" in e.content],
        "Ana's reply through the restarted actor",
    )
    assert len(of_type(events_of(running.store, "c-9"), "AgentJoined")) == 1


def test_the_users_name_wins_over_the_context_name_at_connect(running: Running) -> None:
    status, conversation = running.api.transfer("c-10", running.worker_id, User={"Name": "Zed"}, Context={"name": "Dana"})
    assert (status, conversation["DisplayName"]) == (201, "Zed")
    wait_for(lambda: of_type(events_of(running.store, "c-10"), "AgentJoined"), "Ana to join")
    running.api.say("c-10", "m-1", "hi")
    contact_id = running.service.state("c-10").chat.contact_id
    sent = wait_for(lambda: customer_messages(running, contact_id), "the message at Connect")
    assert sent[0]["DisplayName"] == "Zed"


def test_a_throttled_chat_start_is_retried_with_the_same_client_token(running: Running) -> None:
    running.connect.throttle_next(3, operation="StartChatContact")  # all of boto3's own attempts
    assert running.api.transfer("c-11", running.worker_id)[0] == 201
    started = wait_for(lambda: of_type(events_of(running.store, "c-11"), "ChatStarted"), "the chat to start after a retry")
    requested = of_type(events_of(running.store, "c-11"), "ChatStartRequested")
    assert len(requested) == 1 and len(started) == 1
    assert running.connect.contact_record(started[0].contact_id)["State"] != "ENDED"


def test_typing_and_a_context_change_reach_connect(running: Running) -> None:
    running.api.transfer("c-12", running.worker_id, Context={"plan": "gold"})
    wait_for(lambda: running.api.call("GET", "/v1/conversations/c-12")[1]["Phase"] == "connected", "the chat to connect")
    contact_id = running.service.state("c-12").chat.contact_id
    assert running.api.call("POST", "/v1/conversations/c-12/typing")[0] == 202
    assert running.api.call("PUT", "/v1/conversations/c-12/context", {"Context": {"plan": "platinum"}})[0] == 202
    wait_for(lambda: running.connect.contact_record(contact_id)["Attributes"].get("plan") == "platinum", "the new attributes")
    typing = wait_for(
        lambda: [
            i for i in running.connect.contact_record(contact_id)["Items"]
            if i["ContentType"].endswith(".typing") and i["ParticipantRole"] == "CUSTOMER"
        ],
        "the user's typing at Connect",
    )
    requested = of_type(events_of(running.store, "c-12"), "UserTypingRequested")
    assert [i["ClientToken"] for i in typing] == [r.client_token for r in requested]
    assert running.api.call("GET", "/v1/conversations/c-12")[1]["Context"] == {"plan": "platinum"}


def test_a_chat_that_breaks_at_connect_mid_way_is_handed_back_with_error(start_service: Callable[..., Running]) -> None:
    quick = SocketSettings(
        reconnect_backoff=Backoff(first=0.01, cap=0.02),
        connection_backoff=Backoff(first=0.01, cap=0.02),
        connection_attempts=1,
        reconnect_attempts=2,
    )
    running = start_service(socket_factory=functools.partial(ChatSocket, settings=quick))
    running.api.transfer("c-13", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-13"), "AgentJoined"), "Ana to join")
    running.connect.set_outage("us-east-1")
    returned = wait_for(lambda: of_type(events_of(running.store, "c-13"), "ReturnedToBot"), "the hand-back", timeout=30)
    assert handback(returned[0])["SessionEndReason"] == "Error"
    assert handback(returned[0])["LastKnownAgent"] == {"AgentName": "Ana"}
    assert "gave up" in of_type(events_of(running.store, "c-13"), "ChatEnded")[0].detail


def test_a_message_longer_than_connect_takes_arrives_as_ordered_pieces_with_their_tokens(start_service: Callable[..., Running]) -> None:
    running = start_service(config_with([BRIEF_ANA]))
    running.api.transfer("c-14", running.worker_id)
    text = "word " * 4_000
    assert len(text) == 20_000
    assert running.api.say("c-14", "m-1", text)[0] == 202
    wait_for(lambda: running.service.state("c-14").chat, "the chat to start")
    contact_id = running.service.state("c-14").chat.contact_id
    wait_for(lambda: len(customer_messages(running, contact_id)) >= 2, "both pieces at Connect")
    sent = customer_messages(running, contact_id)
    requested = of_type(events_of(running.store, "c-14"), "UserMessageRequested")
    assert len(sent) == len(requested) == 2
    assert "".join(m["Content"] for m in sent) == text
    assert [(m["Content"], m["ClientToken"]) for m in sent] == [(r.text, r.client_token) for r in requested]


def test_a_user_who_writes_before_any_agent_joined_is_answered_once_one_does(start_service: Callable[..., Running]) -> None:
    running = start_service(config_with([AgentConfig(name="Ana", join_delay_seconds=2)]))
    running.api.transfer("c-15", running.worker_id)
    assert running.api.say("c-15", "m-1", "hello, anyone?")[0] == 202
    wait_for(lambda: of_type(events_of(running.store, "c-15"), "UserMessageSent"), "the message at Connect")
    assert not of_type(events_of(running.store, "c-15"), "AgentJoined")  # it waited in the queue
    reply = wait_for(lambda: of_type(events_of(running.store, "c-15"), "AgentMessageReceived"), "Ana's answer")
    assert reply[0].content == "You said: hello, anyone?"
