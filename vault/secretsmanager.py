"""The vault in AWS Secrets Manager, for real deployments: one secret per reference, named by
`vault.secret_names` (`connect-worker/ORG/TYPE/ALIAS`), its SecretString the value's text form
(`vault.values`), so an operator may also set one in the console or with the AWS CLI.

    vault = SecretsManagerVault.create("eu-west-2")
    vault.put(parse_reference("srn:vault::acme:secret:squeeze"), SecretText("sqz-key"))

Calls use boto3's default credential chain. The service needs secretsmanager:GetSecretValue on
`connect-worker/*`; `run.py secret` also CreateSecret, PutSecretValue, DescribeSecret, DeleteSecret
and ListSecrets. `delete` deletes at once (ForceDeleteWithoutRecovery), as the local vault does, so a
reference deleted can be put again at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from vault.errors import SecretNotFound, VaultUnavailable
from vault.interface import SecretInfo
from vault.references import VaultRef
from vault.secret_names import reference_of, secret_name
from vault.values import VaultValue, parse_value, serialize_value


class _Exists(Exception):
    """CreateSecret found the name taken: the value goes in as a new version instead."""


class SecretsManagerVault:
    def __init__(self, client: Any) -> None:
        """`client`: a boto3 `secretsmanager` client (`create` makes one)."""
        self._client = client
        self._where = f"Secrets Manager ({client.meta.region_name})"

    @classmethod
    def create(cls, region: str, *, endpoint_url: str | None = None) -> SecretsManagerVault:
        return cls(boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url))

    def get(self, reference: VaultRef) -> VaultValue:
        with self._answers(reference, "GetSecretValue"):
            answer = self._client.get_secret_value(SecretId=secret_name(reference))
        if "SecretString" not in answer:
            raise VaultUnavailable(f"{reference}: {secret_name(reference)} holds binary data; the vault keeps text")
        return parse_value(reference, answer["SecretString"])

    def put(self, reference: VaultRef, value: VaultValue) -> None:
        text = serialize_value(reference, value)
        name = secret_name(reference)
        try:
            with self._answers(reference, "CreateSecret", hide=text):
                self._client.create_secret(
                    Name=name, SecretString=text, Description=f"connect worker vault: {reference}"
                )
        except _Exists:
            with self._answers(reference, "PutSecretValue", hide=text):
                self._client.put_secret_value(SecretId=name, SecretString=text)

    def delete(self, reference: VaultRef) -> None:
        # A forced DeleteSecret of a name that does not exist succeeds, so ask first.
        self.describe(reference)
        with self._answers(reference, "DeleteSecret"):
            self._client.delete_secret(SecretId=secret_name(reference), ForceDeleteWithoutRecovery=True)

    def describe(self, reference: VaultRef) -> SecretInfo:
        """From DescribeSecret: ListSecrets may not show a secret made a moment ago."""
        with self._answers(reference, "DescribeSecret"):
            described = self._client.describe_secret(SecretId=secret_name(reference))
        # One deleted by others with a recovery window is gone for the vault too.
        if "DeletedDate" in described:
            raise SecretNotFound(reference, self._where)
        return _info(reference, described)

    def list(self) -> list[SecretInfo]:
        """The vault's secrets. Every secret the account lists is looked at and those of other names
        left out here: how ListSecrets' name filter splits names into words is not ours to rely on."""
        found = []
        with self._answers("the vault's secrets", "ListSecrets"):
            for page in self._client.get_paginator("list_secrets").paginate():
                for secret in page["SecretList"]:
                    reference = reference_of(secret["Name"])
                    if reference is not None:
                        found.append(_info(reference, secret))
        return sorted(found, key=lambda info: str(info.reference))

    @contextmanager
    def _answers(self, subject: VaultRef | str, operation: str, *, hide: str | None = None) -> Iterator[None]:
        """Secrets Manager's errors as the vault's, never with the value in them (`hide`)."""
        try:
            yield
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException" and isinstance(subject, VaultRef):
                raise SecretNotFound(subject, self._where) from None
            if code == "ResourceExistsException":
                raise _Exists() from None
            message = _hidden(str(error.response.get("Error", {}).get("Message", "")), hide)
            raise VaultUnavailable(f"{subject}: {self._where} refused {operation}: {code}: {message}") from None
        except BotoCoreError as error:
            problem = _hidden(str(error), hide)
            raise VaultUnavailable(f"{subject}: {self._where} could not be asked ({problem})") from None


def _hidden(message: str, value: str | None) -> str:
    return message.replace(value, "<hidden>") if value else message


def _info(reference: VaultRef, secret: dict[str, Any]) -> SecretInfo:
    created = secret["CreatedDate"]
    return SecretInfo(reference, _utc(created), _utc(secret.get("LastChangedDate") or created))


def _utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc)
