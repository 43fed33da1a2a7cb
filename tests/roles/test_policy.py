"""The IAM policies a worker's roles need: the seed's permissions policy with every placeholder filled,
a statement per region the role serves (failover regions too), and the trust policy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events.worker_config import WorkerConfig, parse_worker_config
from roles import check_principal, principal_of, worker_policy, worker_secrets
from vault import CrossAccountRole

PRIMARY_SECRET = "srn:vault::acme:aws-cross-account-role:connect"
FAILOVER_SECRET = "srn:vault::acme:aws-cross-account-role:failover"
PRINCIPAL = "arn:aws:iam::111122223333:role/connect-worker-service"
ACTIONS = [
    "connect:UpdateContactAttributes",
    "connect:StartChatContact",
    "connect:GetCurrentMetricData",
    "connect:DescribeContactFlow",
]


def worker(failover_secret: str) -> WorkerConfig:
    return parse_worker_config(
        json.dumps(
            {
                "Data": {
                    "ContactFlowId": "flow-1",
                    "InstanceId": "instance-1",
                    "Region": "us-east-1",
                    "Secret": PRIMARY_SECRET,
                    "QueueId": "queue-1",
                    "FailoverRegionConfig": {
                        "FailoverRegions": [
                            {
                                "Name": "us-west-2-oregon",
                                "Secret": failover_secret,
                                "Region": "us-west-2",
                                "InstanceId": "instance-2",
                                "ContactFlowId": "flow-2",
                            }
                        ]
                    },
                },
                "Name": "ConnectOne",
                "Type": "amazon-connect-worker",
            }
        )
    )


def role(account: str, name: str, external_id: str) -> CrossAccountRole:
    return CrossAccountRole(f"arn:aws:iam::{account}:role/{name}", external_id)


def test_a_role_serving_the_primary_and_a_failover_region_gets_a_statement_for_each_all_filled() -> None:
    roles = {PRIMARY_SECRET: role("123456789012", "connect-worker", "ext-42")}

    document = worker_policy("w-1", worker(PRIMARY_SECRET), roles, principal=PRINCIPAL)

    [only] = document["Roles"]
    assert (only["Secret"], only["RoleArn"], only["Regions"]) == (
        PRIMARY_SECRET, "arn:aws:iam::123456789012:role/connect-worker", ["us-east-1", "us-west-2"]
    )
    assert only["PermissionsPolicy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PrimaryUsEast1",
                "Effect": "Allow",
                "Action": ACTIONS,
                "Resource": [
                    "arn:aws:connect:us-east-1:123456789012:instance/instance-1/contact/*",
                    "arn:aws:connect:us-east-1:123456789012:instance/instance-1/contact-flow/flow-1",
                    "arn:aws:connect:us-east-1:123456789012:instance/instance-1/queue/queue-1",
                ],
            },
            {
                "Sid": "Failover1UsWest2Oregon",
                "Effect": "Allow",
                "Action": ACTIONS,
                "Resource": [
                    "arn:aws:connect:us-west-2:123456789012:instance/instance-2/contact/*",
                    "arn:aws:connect:us-west-2:123456789012:instance/instance-2/contact-flow/flow-2",
                    "arn:aws:connect:us-west-2:123456789012:instance/instance-2/queue/*",
                ],
            },
        ],
    }
    assert only["TrustPolicy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "ext-42"}},
            }
        ],
    }
    assert document["PrincipalPolicy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ["arn:aws:iam::123456789012:role/connect-worker"]}
        ],
    }
    assert "${" not in json.dumps(document)


def test_a_failover_region_with_its_own_secret_gets_its_own_role_in_its_own_account() -> None:
    roles = {
        PRIMARY_SECRET: role("123456789012", "connect-worker", "ext-42"),
        FAILOVER_SECRET: role("210987654321", "connect-worker-dr", "ext-dr"),
    }
    config = worker(FAILOVER_SECRET)
    assert worker_secrets(config) == {
        PRIMARY_SECRET: "$.Data.Secret",
        FAILOVER_SECRET: "$.Data.FailoverRegionConfig.FailoverRegions[0].Secret",
    }

    primary, failover = worker_policy("w-1", config, roles, principal=PRINCIPAL)["Roles"]

    assert [statement["Sid"] for statement in primary["PermissionsPolicy"]["Statement"]] == ["PrimaryUsEast1"]
    [statement] = failover["PermissionsPolicy"]["Statement"]
    assert statement["Resource"][0] == "arn:aws:connect:us-west-2:210987654321:instance/instance-2/contact/*"
    assert conditions(failover) == {"StringEquals": {"sts:ExternalId": "ext-dr"}}


def test_a_role_in_another_partition_gets_connect_arns_in_that_partition() -> None:
    roles = {PRIMARY_SECRET: CrossAccountRole("arn:aws-cn:iam::123456789012:role/connect-worker", "ext-42")}
    [only] = worker_policy("w-1", worker(PRIMARY_SECRET), roles, principal=PRINCIPAL)["Roles"]
    assert only["PermissionsPolicy"]["Statement"][0]["Resource"][0].startswith("arn:aws-cn:connect:us-east-1:")


def conditions(role_document: dict[str, Any]) -> Any:
    return role_document["TrustPolicy"]["Statement"][0]["Condition"]


def test_the_principal_of_an_instance_or_task_role_is_its_role() -> None:
    assert principal_of("arn:aws:sts::111122223333:assumed-role/connect-worker-service/i-0abc") == (
        "arn:aws:iam::111122223333:role/connect-worker-service"
    )
    assert principal_of("arn:aws:iam::111122223333:user/ops") == "arn:aws:iam::111122223333:user/ops"


@pytest.mark.parametrize("principal", ["*", "arn:aws:iam::*:root", "connect-worker", ""])
def test_a_principal_that_would_trust_anyone_or_nothing_is_refused(principal: str) -> None:
    with pytest.raises(ValueError):
        check_principal(principal)
    assert check_principal("111122223333") == "111122223333"
