"""Cross-account roles under moto: the service's own principal (an IAM user whose keys are boto3's
default chain), roles whose trust policies are the ones `run.py worker policy` prints, and moto's IAM
checks turned on, so STS refuses a principal the trust does not name or a wrong external id, as AWS does.

    with moto_roles() as aws:
        role = aws.role("connect-worker", "ext-42")                # a CrossAccountRole for the vault
        ...
        assert [r.external_id for r in aws.assumed()] == ["ext-42"]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import disable_iam_authentication, enable_iam_authentication
from moto.sts.models import AssumedRole, sts_backends

from roles.policy import trust_policy
from vault import CrossAccountRole

SERVICE_USER = "connect-worker-service"


def _allowing(actions: tuple[str, ...]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}


class MotoRoles:
    def __init__(self, service_keys: dict[str, str]) -> None:
        self.principal = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/{SERVICE_USER}"
        self.service_keys = service_keys

    def role(
        self, name: str, external_id: str, *, trusted_external_id: str | None = None, allow: tuple[str, ...] = ()
    ) -> CrossAccountRole:
        """A role in moto's IAM that trusts the service's principal with `trusted_external_id` (by default
        `external_id`) and may do the `allow`ed actions, and what the vault keeps of it: its ARN and
        `external_id`."""
        arn = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{name}"
        trusted = CrossAccountRole(arn, trusted_external_id or external_id)
        with disable_iam_authentication():
            iam = boto3.session.Session().client("iam", region_name="us-east-1")
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy(trusted, self.principal)))
            if allow:
                iam.put_role_policy(RoleName=name, PolicyName="allowed", PolicyDocument=json.dumps(_allowing(allow)))
        return CrossAccountRole(arn, external_id)

    def user_keys(self, name: str, allow: tuple[str, ...]) -> dict[str, str]:
        """The access keys of a new IAM user that may do the `allow`ed actions, as a `secretdoc` holds them."""
        with disable_iam_authentication():
            iam = boto3.session.Session().client("iam", region_name="us-east-1")
            iam.create_user(UserName=name)
            iam.put_user_policy(UserName=name, PolicyName="allowed", PolicyDocument=json.dumps(_allowing(allow)))
            key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}

    def assumed(self) -> list[AssumedRole]:
        """Every AssumeRole STS answered, in order (RoleArn, RoleSessionName, ExternalId, keys)."""
        return list(sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assumed_roles)


@contextmanager
def moto_roles() -> Iterator[MotoRoles]:
    """moto's IAM and STS with the service's principal's keys in the environment and IAM checks on."""
    with mock_aws():
        iam = boto3.session.Session().client("iam", region_name="us-east-1")
        iam.create_user(UserName=SERVICE_USER)
        policy = json.dumps(_allowing(("sts:AssumeRole",)))
        iam.put_user_policy(UserName=SERVICE_USER, PolicyName="assume-roles", PolicyDocument=policy)
        key = iam.create_access_key(UserName=SERVICE_USER)["AccessKey"]
        keys = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        with mock.patch.dict(os.environ, keys), enable_iam_authentication():
            yield MotoRoles(keys)


class ExpiringAt:
    """An STS client whose answers expire `lifetime` seconds after `clock()` says they were given, as if
    the role's sessions were that long: moto's own expiry follows the wall clock, and the tests move
    theirs on instead of waiting an hour."""

    def __init__(self, sts: Any, clock: Any, lifetime: float = 3600.0) -> None:
        self._sts = sts
        self._clock = clock
        self._lifetime = lifetime
        self.meta = sts.meta

    def assume_role(self, **request: Any) -> dict[str, Any]:
        answer = self._sts.assume_role(**request)
        expiry = datetime.fromtimestamp(self._clock() + self._lifetime, timezone.utc)
        return {**answer, "Credentials": {**answer["Credentials"], "Expiration": expiry}}


class Clock:
    """Wall time, until moved on."""

    def __init__(self) -> None:
        self._offset = 0.0

    def __call__(self) -> float:
        return datetime.now(timezone.utc).timestamp() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds
