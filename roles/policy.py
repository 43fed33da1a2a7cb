"""The IAM policies a worker's cross-account roles need, as `python run.py worker policy ID` prints them.

    >>> document = worker_policy("w-1", config, {secret: CrossAccountRole(arn, external_id)}, principal=principal)
    >>> [role["RoleArn"] for role in document["Roles"]]
    ['arn:aws:iam::123456789012:role/connect-worker']

Pure: the worker's configuration, its roles as the vault holds them and the service's principal in, the
JSON documents out. For each role (each distinct `Secret` of the worker's primary and failover regions):

- the permissions policy: the seed's, with every placeholder filled (the region, the account id of the
  role's ARN, the instance id, the contact flow id), one statement per region the role serves, each
  with `connect:DescribeContactFlow` added on the contact flow, which `doctor` reads to check it, and
  the queue narrowed to the worker's `QueueId` there (the seed's `queue/*` where it has none);
- the trust policy: the service's principal may call `sts:AssumeRole` with the role's external id;

and, once for the worker, the policy the service's principal needs in its own account: `sts:AssumeRole`
on those roles.

A connector's `Credentials` name roles of their own (Translate, SES): they are not the worker's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from events.worker_config import WorkerConfig
from vault import CrossAccountRole

VERSION = "2012-10-17"

# The seed's actions, then the read `doctor` makes.
ACTIONS = (
    "connect:UpdateContactAttributes",
    "connect:StartChatContact",
    "connect:GetCurrentMetricData",
    "connect:DescribeContactFlow",
)

_ROLE_ARN = re.compile(r"arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):role/.+")
_ASSUMED_ROLE = re.compile(r"arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/.+")
_NOT_IN_SID = re.compile(r"[^A-Za-z0-9]")
_PRINCIPAL = re.compile(r"\d{12}|arn:[\w-]+:(iam|sts)::\d{12}:\S+", re.ASCII)


@dataclass(frozen=True)
class RegionUse:
    """One region a worker's chats may start in: its primary region, or one of its failover regions;
    `secret_field` is the JSON path of the worker file's field that names its role."""

    sid: str
    secret_field: str
    secret: str
    region: str
    instance_id: str
    contact_flow_id: str
    queue_id: str | None


def region_uses(config: WorkerConfig) -> list[RegionUse]:
    """The primary region, then each failover region in the file's order (`doctor` checks the same)."""
    data = config.data
    uses = [
        RegionUse(
            _sid("Primary", data.region),
            "$.Data.Secret",
            data.secret,
            data.region,
            data.instance_id,
            data.contact_flow_id,
            data.queue_id,
        )
    ]
    failovers = data.failover_region_config.failover_regions if data.failover_region_config else []
    for index, failover in enumerate(failovers):
        uses.append(
            RegionUse(
                _sid(f"Failover{index + 1}", failover.name),
                f"$.Data.FailoverRegionConfig.FailoverRegions[{index}].Secret",
                failover.secret,
                failover.region,
                failover.instance_id,
                failover.contact_flow_id,
                failover.queue_id,
            )
        )
    return uses


def worker_secrets(config: WorkerConfig) -> dict[str, str]:
    """The references of the worker's roles, each once, in the order of `region_uses`, with the JSON
    path of the first field that names it."""
    secrets: dict[str, str] = {}
    for use in region_uses(config):
        secrets.setdefault(use.secret, use.secret_field)
    return secrets


def worker_policy(
    worker_id: str, config: WorkerConfig, roles: Mapping[str, CrossAccountRole], *, principal: str
) -> dict[str, Any]:
    """The policies of every role the worker uses; `roles` holds each of `worker_secrets(config)`."""
    uses = region_uses(config)
    secrets = worker_secrets(config)
    return {
        "WorkerId": worker_id,
        "Name": config.name,
        "Principal": principal,
        "PrincipalPolicy": principal_policy([roles[secret] for secret in secrets]),
        "Roles": [
            _role(secret, roles[secret], [use for use in uses if use.secret == secret], principal)
            for secret in secrets
        ],
    }


def principal_policy(roles: list[CrossAccountRole]) -> dict[str, Any]:
    """What the service's own principal needs, in its own account: to assume these roles."""
    arns = list(dict.fromkeys(role.role_arn for role in roles))
    return {
        "Version": VERSION,
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arns}],
    }


def permissions_policy(role: CrossAccountRole, uses: list[RegionUse]) -> dict[str, Any]:
    """The seed's policy for `role`, a statement for each region it serves."""
    partition, account = _arn_parts(role.role_arn)
    statements = []
    for use in uses:
        instance = f"arn:{partition}:connect:{use.region}:{account}:instance/{use.instance_id}"
        statements.append(
            {
                "Sid": use.sid,
                "Effect": "Allow",
                "Action": list(ACTIONS),
                "Resource": [
                    f"{instance}/contact/*",
                    f"{instance}/contact-flow/{use.contact_flow_id}",
                    f"{instance}/queue/{use.queue_id or '*'}",
                ],
            }
        )
    return {"Version": VERSION, "Statement": statements}


def trust_policy(role: CrossAccountRole, principal: str) -> dict[str, Any]:
    """Who may assume `role`: the service's principal, with the role's external id."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": role.external_id}},
            }
        ],
    }


def check_principal(text: str) -> str:
    """`text` if a trust policy may name it as the service's principal: an IAM or STS ARN, or an
    account id; `ValueError` otherwise (`*`, anyone, among them)."""
    if not _PRINCIPAL.fullmatch(text):
        raise ValueError(
            "expected the ARN of the IAM role or user the service runs as (arn:aws:iam::<12 digits>:role/NAME) "
            "or an account id"
        )
    return text


def principal_of(caller_arn: str) -> str:
    """The principal a trust policy names for the caller STS GetCallerIdentity describes: an assumed
    role's session (an instance or task role) is its role, `arn:aws:iam::ACCOUNT:role/NAME`; a user
    or a role is itself. (A role with a path must be given as it is, path and all: the session's ARN
    does not show the path.)"""
    match = _ASSUMED_ROLE.fullmatch(caller_arn)
    if match is None:
        return caller_arn
    return f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"


def _role(secret: str, role: CrossAccountRole, uses: list[RegionUse], principal: str) -> dict[str, Any]:
    return {
        "Secret": secret,
        "RoleArn": role.role_arn,
        "Regions": [use.region for use in uses],
        "PermissionsPolicy": permissions_policy(role, uses),
        "TrustPolicy": trust_policy(role, principal),
    }


def _arn_parts(role_arn: str) -> tuple[str, str]:
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:  # the vault checks every role ARN it keeps
        raise ValueError("not an IAM role ARN")
    return match["partition"], match["account"]


def _sid(kind: str, name: str) -> str:
    """A statement id: letters and digits only (IAM's rule), `PrimaryUsEast1`, `Failover1UsWest2Oregon`."""
    return kind + "".join(part.capitalize() for part in _NOT_IN_SID.split(name) if part)
