"""connect: StartChatContact, StopContact, UpdateContactAttributes,
DescribeContact and GetCurrentMetricData, with their errors."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from connect_local import Config, LocalConnect
from connect_local.config import AgentConfig, Limits
from tests.connect_local.clients import Clients, is_message, wait_until
from tests.connect_local.configs import config_with


def test_a_retried_start_chat_contact_returns_the_first_chat(clients: Clients) -> None:
    first = clients.start_chat("Bob", ClientToken="start-1")
    again = clients.start_chat("Bob", ClientToken="start-1")
    other = clients.start_chat("Bob", ClientToken="start-2")

    assert (again.contact_id, again.participant_token) == (first.contact_id, first.participant_token)
    assert other.contact_id != first.contact_id
    listed = clients.http("GET", "/agent/api/chats")[1]["chats"]
    assert sorted(c["ContactId"] for c in listed) == sorted({first.contact_id, other.contact_id})


def test_unknown_instance_or_flow_is_not_found(clients: Clients) -> None:
    not_found = clients.connect.exceptions.ResourceNotFoundException
    with pytest.raises(not_found, match="Instance"):
        clients.start_chat(instance_id="00000000-0000-4000-8000-000000000000")
    with pytest.raises(not_found, match="Contact flow"):
        clients.start_chat(flow_id="00000000-0000-4000-8000-000000000000")


def test_chat_duration_outside_the_model_range_is_invalid(clients: Clients) -> None:
    with pytest.raises(clients.connect.exceptions.InvalidParameterException, match="ChatDurationInMinutes"):
        clients.start_chat(ChatDurationInMinutes=20000)
    assert clients.start_chat(ChatDurationInMinutes=60).contact_id


def test_a_display_name_over_256_characters_is_invalid(clients: Clients) -> None:
    with pytest.raises(clients.connect.exceptions.InvalidParameterException, match="DisplayName"):
        clients.start_chat("x" * 257)


def test_supported_messaging_content_types_must_include_plain_text(clients: Clients) -> None:
    with pytest.raises(clients.connect.exceptions.InvalidParameterException, match="text/plain"):
        clients.start_chat(SupportedMessagingContentTypes=["text/markdown"])
    assert clients.start_chat(SupportedMessagingContentTypes=["text/plain", "text/markdown"]).contact_id


def test_the_active_chat_quota_is_enforced(start_server: Callable[[Config], LocalConnect]) -> None:
    server = start_server(config_with(limits=Limits(max_active_chats_per_instance=1)))
    with Clients(server) as clients:
        clients.start_chat()
        with pytest.raises(clients.connect.exceptions.LimitExceededException):
            clients.start_chat()


def test_an_ended_chat_frees_its_place_in_the_quota(start_server: Callable[[Config], LocalConnect]) -> None:
    server = start_server(config_with(limits=Limits(max_active_chats_per_instance=1)))
    with Clients(server) as clients:
        first = clients.start_chat()
        first.connect()
        clients.participant.disconnect_participant(ConnectionToken=first.connection_token)
        clients.start_chat()
        with pytest.raises(clients.connect.exceptions.LimitExceededException):
            clients.start_chat()


def test_attributes_are_kept_and_updated(clients: Clients) -> None:
    info = clients.server.ready_info()
    chat = clients.start_chat(Attributes={"customerId": "42", "tier": "gold"})

    clients.connect.update_contact_attributes(
        InitialContactId=chat.contact_id, InstanceId=info["instance_id"], Attributes={"tier": "platinum", "topic": "billing"}
    )

    record = clients.server.contact_record(chat.contact_id)
    assert record["Attributes"] == {"customerId": "42", "tier": "platinum", "topic": "billing"}
    with pytest.raises(clients.connect.exceptions.ResourceNotFoundException):
        clients.connect.update_contact_attributes(InitialContactId="missing", InstanceId=info["instance_id"], Attributes={"a": "b"})


def test_describe_contact_shows_the_queue_the_agent_and_the_end(clients: Clients) -> None:
    info = clients.server.ready_info()
    chat = clients.start_chat()
    chat.connect()
    clients.participant.disconnect_participant(ConnectionToken=chat.connection_token)

    contact = clients.connect.describe_contact(InstanceId=info["instance_id"], ContactId=chat.contact_id)["Contact"]

    assert contact["Id"] == contact["InitialContactId"] == chat.contact_id
    assert contact["Channel"] == "CHAT"
    assert contact["InitiationMethod"] == "API"
    assert contact["QueueInfo"]["Id"] == info["queue_id"]
    assert contact["AgentInfo"]["ConnectedToAgentTimestamp"] >= contact["InitiationTimestamp"]
    assert contact["DisconnectTimestamp"] >= contact["AgentInfo"]["ConnectedToAgentTimestamp"]
    with pytest.raises(clients.connect.exceptions.ResourceNotFoundException):
        clients.connect.describe_contact(InstanceId=info["instance_id"], ContactId="missing")


def metrics(clients: Clients, grouped: bool = True) -> dict[str, float]:
    info = clients.server.ready_info()
    answer = clients.connect.get_current_metric_data(
        InstanceId=info["instance_id"],
        Filters={"Queues": [info["queue_id"]], "Channels": ["CHAT"]},
        Groupings=["QUEUE"] if grouped else [],
        CurrentMetrics=[
            {"Name": "AGENTS_ONLINE", "Unit": "COUNT"},
            {"Name": "AGENTS_AVAILABLE", "Unit": "COUNT"},
            {"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"},
            {"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"},
        ],
    )
    [result] = answer["MetricResults"]
    if grouped:
        assert result["Dimensions"]["Queue"]["Id"] == info["queue_id"]
    units = {c["Metric"]["Name"]: c["Metric"]["Unit"] for c in result["Collections"]}
    assert units == {"AGENTS_ONLINE": "COUNT", "AGENTS_AVAILABLE": "COUNT", "CONTACTS_IN_QUEUE": "COUNT", "OLDEST_CONTACT_AGE": "SECONDS"}
    return {c["Metric"]["Name"]: c["Value"] for c in result["Collections"]}


def test_metrics_count_agents_and_waiting_chats(start_server: Callable[[Config], LocalConnect]) -> None:
    one_chat_each = [AgentConfig(name="Ana", join_delay_seconds=0, max_concurrent_chats=1)]
    server = start_server(config_with(agents=one_chat_each))
    with Clients(server) as clients:
        assert metrics(clients) == {"AGENTS_ONLINE": 1, "AGENTS_AVAILABLE": 1, "CONTACTS_IN_QUEUE": 0, "OLDEST_CONTACT_AGE": 0}
        first = clients.start_chat()
        first.connect()
        clients.start_chat()

        busy = metrics(clients)
        assert busy["AGENTS_ONLINE"] == 1
        assert busy["AGENTS_AVAILABLE"] == 0
        assert busy["CONTACTS_IN_QUEUE"] == 1

        clients.participant.disconnect_participant(ConnectionToken=first.connection_token)
        # The waiting chat is routed on the server's scheduler once the first ends.
        assert wait_until(lambda: metrics(clients, grouped=False)["CONTACTS_IN_QUEUE"] == 0)


def test_metrics_for_an_unknown_queue_are_not_found(clients: Clients) -> None:
    info = clients.server.ready_info()
    with pytest.raises(clients.connect.exceptions.ResourceNotFoundException):
        clients.connect.get_current_metric_data(
            InstanceId=info["instance_id"],
            Filters={"Queues": ["missing"], "Channels": ["CHAT"]},
            CurrentMetrics=[{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}],
        )


def test_connect_calls_without_a_signature_are_denied(clients: Clients) -> None:
    unsigned = urllib.request.Request(clients.server.endpoint_url + "/contact/chat", data=b"{}", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(unsigned, timeout=5)
    assert raised.value.code == 403
    assert raised.value.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_start_chat_contact_can_open_the_connection_at_once(clients: Clients) -> None:
    info = clients.server.ready_info()
    answer = clients.connect.start_chat_contact(
        InstanceId=info["instance_id"],
        ContactFlowId=info["contact_flow_id"],
        ParticipantDetails={"DisplayName": "Eve"},
        ConnectionTypes=["WEBSOCKET", "CONNECTION_CREDENTIALS"],
    )
    socket = clients.open_socket(answer["Websocket"]["Url"])
    socket.subscribe()
    clients.participant.send_message(
        ConnectionToken=answer["ConnectionCredentials"]["ConnectionToken"], ContentType="text/plain", Content="at once"
    )
    assert socket.wait_item(is_message("You said: at once", "AGENT"))["ContactId"] == answer["ContactId"]
