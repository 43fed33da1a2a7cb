"""A connector's `Credentials` through the vault: the seed's email connector sends with moto's SES, IAM
checks on, signed by the cross-account role its reference names or by the access keys a secretdoc holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import disable_iam_authentication
from moto.ses import ses_backends

from connectors.config import ConnectorConfig, parse_connector_config
from connectors.errors import ConnectorFailed
from connectors.executor import ConnectorExecutor
from roles import RoleSessions, VaultCredentials
from tests.connectors.seeds import seed_email
from tests.support.aws_roles import MotoRoles
from vault import LocalVault, SecretDoc, parse_reference

REGION = "eu-west-1"
SEED_SOURCE = "YOUR_SOURCE@EMAIL.HERE"
ROLE_REF = "srn:vault::YOURORG:cross-account-role:somesecret"  # the seed's
KEYS_REF = "srn:vault::YOURORG:secretdoc:sesKeys"
INPUT = {"email": "maya@example.com"}


@pytest.fixture
def ses(aws: MotoRoles) -> Iterator[None]:
    with disable_iam_authentication():
        boto3.session.Session().client("ses", region_name=REGION).verify_email_identity(EmailAddress=SEED_SOURCE)
    yield


def email(credentials: str) -> ConnectorConfig:
    return parse_connector_config(json.dumps({**seed_email(), "Credentials": credentials}))


def executor(vault: LocalVault) -> ConnectorExecutor:
    return ConnectorExecutor(VaultCredentials(vault, RoleSessions(vault), sts_region=REGION))


def sent() -> list[Any]:
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def test_a_cross_account_role_is_assumed_with_its_external_id_to_send(
    vault: LocalVault, aws: MotoRoles, ses: None
) -> None:
    role = aws.role("acme-email", "ext-mail", allow=("ses:SendEmail",))
    vault.put(parse_reference(ROLE_REF), role)

    executor(vault).execute(email(ROLE_REF), INPUT, region=REGION)

    assert [m.destinations["ToAddresses"] for m in sent()] == [["maya@example.com"]]
    [assumed] = aws.assumed()
    assert (assumed.role_arn, assumed.external_id, assumed.session_name) == (
        role.role_arn, "ext-mail", "connect-worker.YOURORG.somesecret"
    )


def test_a_role_that_may_not_send_is_the_services_refusal_after_the_role_was_assumed(
    vault: LocalVault, aws: MotoRoles, ses: None
) -> None:
    vault.put(parse_reference(ROLE_REF), aws.role("acme-email", "ext-mail"))
    with pytest.raises(ConnectorFailed) as caught:
        executor(vault).execute(email(ROLE_REF), INPUT, region=REGION)
    assert caught.value.code == "AccessDenied" and len(aws.assumed()) == 1
    assert sent() == []


def test_a_secretdocs_access_keys_sign_the_call(vault: LocalVault, aws: MotoRoles, ses: None) -> None:
    vault.put(parse_reference(KEYS_REF), SecretDoc(aws.user_keys("acme-mailer", ("ses:SendEmail",))))
    executor(vault).execute(email(KEYS_REF), INPUT, region=REGION)
    assert len(sent()) == 1 and aws.assumed() == []


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"AccessKeyId": "AKIA"}, f"{KEYS_REF}: SecretAccessKey must be a string that is not empty"),
        ({"AccessKeyID": "AKIA", "SecretAccessKey": "s"}, f"{KEYS_REF}: unknown field 'AccessKeyID'"),
        ({"AccessKeyId": "AKIA", "SecretAccessKey": "s", "SessionToken": ""}, f"{KEYS_REF}: SessionToken must be"),
    ],
)
def test_a_secretdoc_that_holds_no_access_keys_names_the_field_and_never_a_value(
    vault: LocalVault, aws: MotoRoles, ses: None, document: dict[str, str], problem: str
) -> None:
    vault.put(parse_reference(KEYS_REF), SecretDoc(document))
    with pytest.raises(ConnectorFailed) as caught:
        executor(vault).execute(email(KEYS_REF), INPUT, region=REGION)
    assert caught.value.code == "InvalidSecretValue" and caught.value.message.startswith(problem)
    assert '"s"' not in caught.value.message and "'s'" not in caught.value.message


def test_credentials_the_vault_does_not_hold_fail_the_call_and_are_asked_again_next_time(
    vault: LocalVault, aws: MotoRoles, ses: None
) -> None:
    run = executor(vault)
    with pytest.raises(ConnectorFailed) as caught:
        run.execute(email(ROLE_REF), INPUT, region=REGION)
    assert caught.value.code == "SecretNotFound" and sent() == []

    vault.put(parse_reference(ROLE_REF), aws.role("acme-email", "ext-mail", allow=("ses:SendEmail",)))
    run.execute(email(ROLE_REF), INPUT, region=REGION)
    assert len(sent()) == 1
