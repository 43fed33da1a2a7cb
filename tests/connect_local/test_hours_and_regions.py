"""Hours of operation, several instances and two regions from one server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from connect_local import Config, LocalConnect
from connect_local.config import (
    ContactFlowConfig,
    HoursOfOperation,
    InstanceConfig,
    OpenPeriod,
    QueueConfig,
    RegionConfig,
    default_instance,
)
from connect_local.hours import is_open
from tests.connect_local.clients import Clients, is_message
from tests.connect_local.configs import INSTANT_ANA

Start = Callable[[Config], LocalConnect]
NEVER_OPEN = HoursOfOperation(id="closed", schedule=[])


def closed_instance() -> InstanceConfig:
    return InstanceConfig(
        id="closed-instance",
        contact_flows=[ContactFlowConfig(id="closed-flow", queue_id="closed-queue", closed_message="Sorry, we are closed.")],
        queues=[QueueConfig(id="closed-queue", hours_of_operation_id="closed", agents=[INSTANT_ANA])],
        hours_of_operation=[NEVER_OPEN],
    )


def test_outside_hours_the_flow_answers_and_no_agent_is_offered(start_server: Start) -> None:
    server = start_server(Config(regions=[RegionConfig(name="us-east-1", instances=[closed_instance()])]))
    with Clients(server) as clients:
        chat = clients.start_chat(instance_id="closed-instance", flow_id="closed-flow")
        socket = chat.connect()
        history = chat.transcript()["Transcript"]
        assert [(i["ParticipantRole"], i.get("Content")) for i in history][-1] == ("SYSTEM", "Sorry, we are closed.")

        chat.send("hello?")
        socket.wait_item(is_message("hello?", "CUSTOMER"))
        answer = socket.wait_item(is_message("Sorry, we are closed.", "SYSTEM"))
        assert answer["DisplayName"] == "SYSTEM_MESSAGE"

        record = server.contact_record(chat.contact_id)
        assert record["AgentName"] is None
        assert clients.http("GET", "/agent/api/chats")[1]["chats"] == []
        assert clients.http("POST", f"/agent/api/chats/{chat.contact_id}/accept", {"AgentName": "Maria"})[0] == 404


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-23T09:00:00+00:00", True),   # Monday 09:00 UTC: opening minute
        ("2026-11-23T16:59:00+00:00", True),
        ("2026-11-23T17:00:00+00:00", False),  # closing minute is closed
        ("2026-11-22T12:00:00+00:00", False),  # Sunday
        ("2026-11-23T08:30:00-05:00", True),   # 13:30 UTC
    ],
)
def test_weekday_hours_in_their_time_zone(moment: str, expected: bool) -> None:
    hours = HoursOfOperation(id="office", time_zone="UTC", schedule=[OpenPeriod(day="MONDAY", start="09:00", end="17:00")])
    assert is_open(hours, datetime.fromisoformat(moment)) is expected


def test_an_overnight_period_runs_into_the_next_day() -> None:
    hours = HoursOfOperation(id="night", time_zone="Europe/Madrid", schedule=[OpenPeriod(day="FRIDAY", start="22:00", end="06:00")])
    assert is_open(hours, datetime(2026, 11, 27, 21, 30, tzinfo=UTC))  # Friday 22:30 in Madrid
    assert is_open(hours, datetime(2026, 11, 28, 4, 0, tzinfo=UTC))  # Saturday 05:00 in Madrid
    assert not is_open(hours, datetime(2026, 11, 28, 6, 0, tzinfo=UTC))  # Saturday 07:00 in Madrid


def two_regions() -> Config:
    return Config(regions=[
        RegionConfig(name="us-east-1", instances=[default_instance([INSTANT_ANA])]),
        RegionConfig(name="eu-west-2", instances=[default_instance([INSTANT_ANA]), closed_instance()]),
    ])


def test_two_regions_serve_their_own_chats_at_once(start_server: Start) -> None:
    server = start_server(two_regions())
    with Clients(server, "us-east-1") as east, Clients(server, "eu-west-2") as london:
        east_chat, london_chat = east.start_chat("East"), london.start_chat("London")
        east_socket, london_socket = east_chat.connect(), london_chat.connect()
        east_chat.send("from the east")
        london_chat.send("from london")
        east_socket.wait_item(is_message("You said: from the east"))
        london_socket.wait_item(is_message("You said: from london"))

        assert server.contact_record(east_chat.contact_id)["Region"] == "us-east-1"
        assert server.contact_record(london_chat.contact_id)["Region"] == "eu-west-2"
        assert all("from london" != i.get("Content") for i in east_socket.items)
        instance_id = server.ready_info()["instance_id"]
        with pytest.raises(east.connect.exceptions.ResourceNotFoundException):
            east.connect.describe_contact(InstanceId=instance_id, ContactId=london_chat.contact_id)
        assert london.connect.describe_contact(InstanceId=instance_id, ContactId=london_chat.contact_id)["Contact"]["Id"]


def test_an_instance_exists_only_in_its_region(start_server: Start) -> None:
    server = start_server(two_regions())
    with Clients(server, "us-east-1") as east, Clients(server, "eu-west-2") as london:
        assert london.start_chat(instance_id="closed-instance", flow_id="closed-flow").contact_id
        with pytest.raises(east.connect.exceptions.ResourceNotFoundException, match="us-east-1"):
            east.start_chat(instance_id="closed-instance", flow_id="closed-flow")


def test_a_region_not_served_has_no_instances(start_server: Start) -> None:
    server = start_server(two_regions())
    with Clients(server, "ap-south-1") as mumbai:
        with pytest.raises(mumbai.connect.exceptions.ResourceNotFoundException):
            mumbai.start_chat()
