"""The Secrets Manager backend (moto): one secret per reference, its SecretString the value's text
form, so what an operator sets in the console reads back; Secrets Manager's refusals named, never
with a value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.vault.conftest import REGION
from vault import (
    CrossAccountRole,
    InvalidSecretValue,
    SecretNotFound,
    SecretsManagerVault,
    SecretText,
    VaultUnavailable,
    parse_reference,
)

ROLE_REF = parse_reference("srn:vault::acme:aws-cross-account-role:connect")
KEY_REF = parse_reference("srn:vault::acme:secret:squeeze")
ARN = "arn:aws:iam::123456789012:role/ConnectWorker"


def test_a_reference_is_one_secret_named_for_it_holding_the_text_form(
    secretsmanager: Any, secretsmanager_vault: SecretsManagerVault
) -> None:
    secretsmanager_vault.put(ROLE_REF, CrossAccountRole(ARN, "ext-1"))
    secretsmanager_vault.put(KEY_REF, SecretText("sqz-key"))
    role = secretsmanager.get_secret_value(SecretId="connect-worker/acme/aws-cross-account-role/connect")
    assert json.loads(role["SecretString"]) == {"RoleArn": ARN, "ExternalId": "ext-1"}
    key = secretsmanager.get_secret_value(SecretId="connect-worker/acme/secret/squeeze")
    assert key["SecretString"] == "sqz-key"
    described = secretsmanager.describe_secret(SecretId="connect-worker/acme/secret/squeeze")
    assert described["Description"] == "connect worker vault: srn:vault::acme:secret:squeeze"


def test_a_secret_an_operator_sets_in_secrets_manager_is_read(secretsmanager: Any, secretsmanager_vault: SecretsManagerVault) -> None:
    secretsmanager.create_secret(
        Name="connect-worker/acme/aws-cross-account-role/connect",
        SecretString=json.dumps({"RoleArn": ARN, "ExternalId": "ext-2"}),
    )
    assert secretsmanager_vault.get(ROLE_REF) == CrossAccountRole(ARN, "ext-2")


def test_list_leaves_out_the_accounts_other_secrets(secretsmanager: Any, secretsmanager_vault: SecretsManagerVault) -> None:
    secretsmanager.create_secret(Name="prod/db-password", SecretString="x")
    secretsmanager.create_secret(Name="connect-worker/acme/password/squeeze", SecretString="x")
    secretsmanager_vault.put(KEY_REF, SecretText("sqz-key"))
    assert [info.reference for info in secretsmanager_vault.list()] == [KEY_REF]


def test_a_secret_deleted_by_others_with_a_recovery_window_is_gone(
    secretsmanager: Any, secretsmanager_vault: SecretsManagerVault
) -> None:
    secretsmanager_vault.put(KEY_REF, SecretText("sqz-key"))
    secretsmanager.delete_secret(SecretId="connect-worker/acme/secret/squeeze", RecoveryWindowInDays=7)
    for operation in (secretsmanager_vault.describe, secretsmanager_vault.delete):
        with pytest.raises(SecretNotFound):
            operation(KEY_REF)


def test_a_value_that_does_not_fit_its_type_is_named_and_not_repeated(
    secretsmanager: Any, secretsmanager_vault: SecretsManagerVault
) -> None:
    secretsmanager.create_secret(
        Name="connect-worker/acme/aws-cross-account-role/connect", SecretString='{"RoleArn": "role-arn-typo-1234"}'
    )
    with pytest.raises(InvalidSecretValue) as caught:
        secretsmanager_vault.get(ROLE_REF)
    assert str(caught.value).startswith("srn:vault::acme:aws-cross-account-role:connect: missing field 'ExternalId'")
    assert "role-arn-typo-1234" not in str(caught.value)


def test_a_binary_secret_is_refused(secretsmanager: Any, secretsmanager_vault: SecretsManagerVault) -> None:
    secretsmanager.create_secret(Name="connect-worker/acme/secret/squeeze", SecretBinary=b"\x00\x01")
    with pytest.raises(VaultUnavailable, match="connect-worker/acme/secret/squeeze holds binary data"):
        secretsmanager_vault.get(KEY_REF)


def stubbed(secretsmanager: Any) -> tuple[SecretsManagerVault, Stubber]:
    stubber = Stubber(secretsmanager)
    stubber.activate()
    return SecretsManagerVault(secretsmanager), stubber


def test_access_denied_is_named_with_the_operation_and_aws_words(secretsmanager: Any) -> None:
    vault, stubber = stubbed(secretsmanager)
    stubber.add_client_error(
        "get_secret_value",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:sts::123456789012:assumed-role/worker is not authorized to perform: secretsmanager:GetSecretValue",
    )
    with pytest.raises(VaultUnavailable) as caught:
        vault.get(KEY_REF)
    assert str(caught.value) == (
        f"srn:vault::acme:secret:squeeze: Secrets Manager ({REGION}) refused GetSecretValue: AccessDeniedException:"
        " User: arn:aws:sts::123456789012:assumed-role/worker is not authorized to perform: secretsmanager:GetSecretValue"
    )


def test_a_refusal_that_quotes_the_value_is_told_without_it(secretsmanager: Any) -> None:
    vault, stubber = stubbed(secretsmanager)
    for operation in ("create_secret", "put_secret_value"):
        stubber.add_client_error(
            operation,
            service_error_code="ValidationException" if operation == "put_secret_value" else "ResourceExistsException",
            service_message="Value 'sqz-key-quoted' at 'secretString' failed to satisfy constraint",
        )
    with pytest.raises(VaultUnavailable) as caught:
        vault.put(KEY_REF, SecretText("sqz-key-quoted"))
    assert "refused PutSecretValue: ValidationException: Value '<hidden>' at 'secretString'" in str(caught.value)
    assert "sqz-key-quoted" not in str(caught.value)
