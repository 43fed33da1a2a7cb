"""Contacts.describe_contact_flow against the local Amazon Connect: the flow as a record, an unknown
one as NotFound."""

from __future__ import annotations

import pytest

from connect_client import NotFound, RegionClients
from connect_client.contacts import ContactFlow
from connect_local import LocalConnect

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_a_flow_of_the_instance_is_described(server: LocalConnect, region: RegionClients) -> None:
    info = server.ready_info()
    flow = region.contacts.describe_contact_flow(info["instance_id"], info["contact_flow_id"])
    assert flow == ContactFlow(info["contact_flow_id"], "Default customer queue", "ACTIVE", "PUBLISHED")


@pytest.mark.parametrize("unknown", ["instance", "flow"])
def test_an_unknown_instance_or_flow_is_not_found(server: LocalConnect, region: RegionClients, unknown: str) -> None:
    info = server.ready_info()
    instance_id = UNKNOWN if unknown == "instance" else info["instance_id"]
    flow_id = UNKNOWN if unknown == "flow" else info["contact_flow_id"]

    with pytest.raises(NotFound) as caught:
        region.contacts.describe_contact_flow(instance_id, flow_id)

    assert (caught.value.operation, caught.value.code) == ("DescribeContactFlow", "ResourceNotFoundException")
    assert UNKNOWN in caught.value.detail
