"""connect DescribeContactFlow: a configured flow is described; an unknown instance or flow, or one of
another region, is ResourceNotFoundException (404), as Amazon Connect answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connect_local import Config, LocalConnect
from connect_local.config import ContactFlowConfig, InstanceConfig, QueueConfig, RegionConfig
from tests.connect_local.clients import Clients, boto_client

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_a_configured_flow_is_described_with_its_name_and_arn(clients: Clients) -> None:
    info = clients.server.ready_info()

    flow = clients.connect.describe_contact_flow(InstanceId=info["instance_id"], ContactFlowId=info["contact_flow_id"])[
        "ContactFlow"
    ]

    assert flow == {
        "Arn": f"arn:aws:connect:us-east-1:123456789012:instance/{info['instance_id']}"
        f"/contact-flow/{info['contact_flow_id']}",
        "Id": info["contact_flow_id"],
        "Name": "Default customer queue",
        "Type": "CONTACT_FLOW",
        "State": "ACTIVE",
        "Status": "PUBLISHED",
        "Tags": {},
    }


def test_an_unknown_flow_or_instance_is_resource_not_found_with_status_404(clients: Clients) -> None:
    info = clients.server.ready_info()
    not_found = clients.connect.exceptions.ResourceNotFoundException

    with pytest.raises(not_found, match=f"Contact flow {UNKNOWN} not found") as flow:
        clients.connect.describe_contact_flow(InstanceId=info["instance_id"], ContactFlowId=UNKNOWN)
    with pytest.raises(not_found, match=f"Instance {UNKNOWN} not found") as instance:
        clients.connect.describe_contact_flow(InstanceId=UNKNOWN, ContactFlowId=info["contact_flow_id"])

    assert flow.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert instance.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_flow_is_found_only_in_its_own_region_and_instance(start_server: Callable[[Config], LocalConnect]) -> None:
    named = InstanceConfig(
        id="inst-eu",
        contact_flows=[ContactFlowConfig(id="flow-eu", queue_id="q-eu", name="Support")],
        queues=[QueueConfig(id="q-eu")],
    )
    server = start_server(Config(regions=[RegionConfig(name="eu-west-2", instances=[named])]))
    europe = boto_client("connect", server, "eu-west-2")
    america = boto_client("connect", server, "us-east-1")

    assert europe.describe_contact_flow(InstanceId="inst-eu", ContactFlowId="flow-eu")["ContactFlow"]["Name"] == "Support"
    with pytest.raises(america.exceptions.ResourceNotFoundException, match="Instance inst-eu not found in region us-east-1"):
        america.describe_contact_flow(InstanceId="inst-eu", ContactFlowId="flow-eu")
