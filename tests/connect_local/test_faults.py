"""Faults on demand, throttling, connection expiry and reconnection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import pytest
import websocket
from botocore.config import Config as BotoConfig

from connect_local import Config, LocalConnect
from connect_local.config import RateLimit
from tests.connect_local.clients import Clients, boto_client, is_event, is_message, wait_until
from tests.connect_local.configs import config_with
from tests.connect_local.test_hours_and_regions import two_regions

Start = Callable[[Config], LocalConnect]


def test_a_dropped_socket_is_replaced_and_the_transcript_fills_the_gap(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()
    chat.send("before")
    last_seen = socket.wait_item(is_message("You said: before"))

    assert clients.server.drop_sockets(chat.contact_id) == 1
    assert socket.wait_closed() == 1001
    chat.send("while away")

    fresh = chat.connect()
    missed = chat.transcript(ScanDirection="FORWARD", StartPosition={"Id": last_seen["Id"]})["Transcript"]
    assert [i.get("Content") for i in missed if i["Type"] == "MESSAGE"] == ["You said: before", "while away", "You said: while away"]
    chat.send("after")
    fresh.wait_item(is_message("You said: after"))


def test_an_early_expiry_closes_the_socket_and_voids_the_connection_token(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()
    old_token = chat.connection_token

    assert clients.server.expire_connections(chat.contact_id) == 1

    socket.wait_closed()
    with pytest.raises(clients.participant.exceptions.AccessDeniedException):
        clients.participant.send_message(ConnectionToken=old_token, ContentType="text/plain", Content="x")
    fresh = chat.connect()
    chat.send("renewed")
    fresh.wait_item(is_message("You said: renewed"))


def test_an_expired_websocket_url_is_refused(clients: Clients) -> None:
    chat = clients.start_chat()
    answer = clients.participant.create_participant_connection(Type=["WEBSOCKET"], ParticipantToken=chat.participant_token)
    clients.server.expire_connections(chat.contact_id)
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(answer["Websocket"]["Url"], timeout=5)


def test_the_server_closes_a_socket_when_its_connection_expires(start_server: Start) -> None:
    from connect_local.config import Limits

    server = start_server(config_with(limits=Limits(connection_lifetime_seconds=0.3)))
    with Clients(server) as clients:
        chat = clients.start_chat()
        answer = clients.participant.create_participant_connection(
            Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"], ParticipantToken=chat.participant_token
        )
        socket = clients.open_socket(answer["Websocket"]["Url"])
        socket.subscribe()
        assert socket.wait_closed() == 1000
        assert answer["Websocket"]["ConnectionExpiry"] < answer["ConnectionCredentials"]["Expiry"]


def test_a_region_outage_fails_calls_with_5xx_and_drops_its_sockets(start_server: Start) -> None:
    server = start_server(two_regions())
    with Clients(server, "us-east-1") as east, Clients(server, "eu-west-2") as london:
        east_chat, london_chat = east.start_chat(), london.start_chat()
        east_socket = east_chat.connect()
        london_socket = london_chat.connect()

        server.set_outage("us-east-1")

        assert east_socket.wait_closed() == 1001
        with pytest.raises(east.connect.exceptions.InternalServiceException) as raised:
            east.start_chat()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        with pytest.raises(east.participant.exceptions.InternalServerException):
            east_chat.send("hello?")
        london_chat.send("still here")
        london_socket.wait_item(is_message("You said: still here"))

        server.set_outage("us-east-1", down=False)
        east_chat.connect()
        east_chat.send("back")


def test_a_socket_is_refused_while_its_region_is_down(start_server: Start) -> None:
    server = start_server(config_with())
    with Clients(server) as clients:
        chat = clients.start_chat()
        answer = clients.participant.create_participant_connection(Type=["WEBSOCKET"], ParticipantToken=chat.participant_token)
        server.set_outage("us-east-1")
        with pytest.raises(websocket.WebSocketBadStatusException):
            websocket.create_connection(answer["Websocket"]["Url"], timeout=5)


def test_a_throttling_burst_answers_429_then_calls_go_through(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    clients.server.throttle_next(2, operation="SendMessage")

    for _ in range(2):
        with pytest.raises(clients.participant.exceptions.ThrottlingException) as raised:
            chat.send("x")
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    chat.send("x")


def test_boto3_retries_a_throttle_by_default(clients: Clients) -> None:
    retrying = boto_client("connectparticipant", clients.server, config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}))
    chat = clients.start_chat()
    chat.connect()
    clients.server.throttle_next(1, operation="SendMessage")
    answer = retrying.send_message(ConnectionToken=chat.connection_token, ContentType="text/plain", Content="retried", ClientToken="c1")
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert [i["Id"] for i in clients.server.contact_record(chat.contact_id)["Items"] if i.get("Content") == "retried"] == [answer["Id"]]


def test_rate_limits_are_token_buckets_per_operation(start_server: Start) -> None:
    server = start_server(config_with(rate_limits={"StartChatContact": RateLimit(rate=0.001, burst=2)}))
    with Clients(server) as clients:
        clients.start_chat()
        clients.start_chat()
        with pytest.raises(clients.connect.exceptions.ThrottlingException):
            clients.start_chat()
        info = server.ready_info()
        clients.connect.get_current_metric_data(
            InstanceId=info["instance_id"], Filters={"Queues": [info["queue_id"]]}, CurrentMetrics=[{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}]
        )


def test_failures_on_a_share_of_calls_repeat_with_the_same_seed(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()

    def pattern() -> list[bool]:
        outcomes = []
        for _ in range(20):
            try:
                chat.transcript()
                outcomes.append(True)
            except clients.participant.exceptions.InternalServerException:
                outcomes.append(False)
        return outcomes

    clients.server.fail_share(0.5, seed=7)
    first = pattern()
    clients.server.fail_share(0.5, seed=7)
    second = pattern()
    clients.server.clear_faults()

    assert first == second
    assert 0 < first.count(False) < 20
    assert all(pattern())


def test_added_latency_delays_answers(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    clients.server.set_latency(0.3)
    started = time.monotonic()
    chat.transcript()
    assert time.monotonic() - started >= 0.3
    clients.server.set_latency(0)


def test_the_admin_api_drives_the_same_faults(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()
    assert clients.http("GET", f"/admin/sockets?ContactId={chat.contact_id}") == (200, {"Open": 1})

    assert clients.http("POST", "/admin/sockets/drop", {"ContactId": chat.contact_id}) == (200, {"Dropped": 1})
    socket.wait_closed()
    assert wait_until(lambda: clients.http("GET", "/admin/sockets")[1] == {"Open": 0})

    assert clients.http("POST", "/admin/faults/throttle", {"Count": 1, "Operation": "GetTranscript"}) == (200, {})
    with pytest.raises(clients.participant.exceptions.ThrottlingException):
        chat.transcript()
    assert clients.http("POST", "/admin/faults/outage", {"Region": "us-east-1"}) == (200, {})
    with pytest.raises(clients.participant.exceptions.InternalServerException):
        chat.transcript()
    assert clients.http("POST", "/admin/faults/clear") == (200, {})
    chat.transcript()

    chat.connect()
    assert clients.http("POST", f"/admin/contacts/{chat.contact_id}/expire-connections") == (200, {"Expired": 2})
    assert clients.http("POST", "/admin/faults/errors", {"Share": 2}) [0] == 400
    assert clients.http("POST", "/admin/faults/throttle", {"Count": "many"})[0] == 400
    assert clients.http("GET", "/admin/contacts/missing")[0] == 404


def test_the_admin_record_lists_every_item_with_its_client_token(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()
    chat.send("one", ClientToken="tok-1")
    chat.send("one", ClientToken="tok-1")
    chat.send("two")
    socket.wait_item(is_message("You said: two"))

    status, record = clients.http("GET", f"/admin/contacts/{chat.contact_id}")

    assert status == 200
    messages = [(i["ParticipantRole"], i["Content"], i["ClientToken"]) for i in record["Items"] if i["Type"] == "MESSAGE"]
    # boto3 fills in a fresh ClientToken when none is given; agents send none.
    generated = messages[2][2]
    assert generated not in (None, "tok-1")
    assert messages == [
        ("CUSTOMER", "one", "tok-1"),
        ("AGENT", "You said: one", None),
        ("CUSTOMER", "two", generated),
        ("AGENT", "You said: two", None),
    ]


def test_the_admin_record_gives_the_unrounded_moment_beside_the_millisecond_absolute_time() -> None:
    moment = 1_800_000_000.0126
    server = LocalConnect(config_with(agents=[]), clock=lambda: moment).start()
    try:
        with Clients(server) as clients:
            chat = clients.start_chat()
            chat.connect()
            chat.send("now")

            status, record = clients.http("GET", f"/admin/contacts/{chat.contact_id}")
    finally:
        server.stop()

    assert status == 200
    message = next(i for i in record["Items"] if i.get("Content") == "now")
    absolute = datetime.fromisoformat(message["AbsoluteTime"].replace("Z", "+00:00")).timestamp()
    assert message["ReceivedAt"] == moment != absolute


def test_a_chat_ends_when_its_duration_runs_out() -> None:
    now = [time.time()]
    server = LocalConnect(config_with(), clock=lambda: now[0]).start()
    try:
        with Clients(server) as clients:
            chat = clients.start_chat(ChatDurationInMinutes=60)
            socket = chat.connect()
            now[0] += 60 * 60
            socket.wait_item(is_event("chat.ended"))
            with pytest.raises(clients.participant.exceptions.AccessDeniedException):
                clients.participant.create_participant_connection(Type=["WEBSOCKET"], ParticipantToken=chat.participant_token)
    finally:
        server.stop()


def test_a_call_held_by_latency_is_answered_once_the_latency_is_taken_away(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    clients.server.set_latency(60)
    answered = threading.Event()
    caller = threading.Thread(target=lambda: (chat.transcript(), answered.set()), daemon=True)
    caller.start()
    assert wait_until(lambda: clients.server.faults.held() == 1)
    assert not answered.is_set()
    clients.server.clear_faults()
    assert answered.wait(10), "the held call was not answered once the latency was taken away"
