"""Assuming the role a vault reference names, under moto's STS with IAM checks on: the role's trust
policy (the one `run.py worker policy` prints) lets the service's principal in only with its external id."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import boto3
import pytest

from connect_client import CredentialsRefused, RegionClients, RetryableError
from roles import CredentialsUnavailable, RoleAssumer, RoleSessions, role_session_name
from roles.sessions import default_sts_client
from tests.support.aws_roles import MotoRoles
from vault import LocalVault, SecretText, parse_reference

ROLE_REF = "srn:vault::acme:aws-cross-account-role:connect"
EXTERNAL_ID = "ext-7f3a-never-shown"
REGION = "eu-west-2"


def sts() -> object:
    """STS as the service calls it: signed with its own principal's keys, boto3's default chain."""
    return default_sts_client(REGION)


def test_the_role_is_assumed_with_its_external_id_and_a_session_named_for_the_secret(
    vault: LocalVault, aws: MotoRoles
) -> None:
    role = aws.role("connect-worker", EXTERNAL_ID)
    vault.put(parse_reference(ROLE_REF), role)

    credentials = RoleAssumer(vault, ROLE_REF, sts())()

    [assumed] = aws.assumed()
    assert (assumed.role_arn, assumed.external_id) == (role.role_arn, EXTERNAL_ID)
    assert assumed.session_name == "connect-worker.acme.connect"
    assert credentials["access_key"] == assumed.access_key_id and credentials["token"] == assumed.session_token
    assert datetime.fromisoformat(credentials["expiry_time"]) == assumed.expiration.replace(tzinfo=timezone.utc)


def test_a_session_name_keeps_within_what_sts_takes() -> None:
    assert role_session_name("srn:vault::acme/eu:cross-account-role:a*b") == "connect-worker.acme-eu.a-b"
    long_one, other = (f"srn:vault::acme:aws-cross-account-role:{'x' * 80}{end}" for end in "12")
    assert len(role_session_name(long_one)) == 64
    assert role_session_name(long_one) != role_session_name(other)


def test_a_wrong_external_id_is_denied_and_the_message_says_which_trust_is_missing(
    vault: LocalVault, aws: MotoRoles
) -> None:
    role = aws.role("connect-worker", EXTERNAL_ID, trusted_external_id="ext-the-role-expects")
    vault.put(parse_reference(ROLE_REF), role)

    with pytest.raises(CredentialsUnavailable) as caught:
        RoleAssumer(vault, ROLE_REF, sts())()

    failure = caught.value
    assert (failure.code, failure.retryable) == ("AssumeRoleDenied", False)
    assert failure.message.startswith(f"sts:AssumeRole on {role.role_arn} was denied: the role's trust policy")
    assert f"the sts:ExternalId {ROLE_REF} holds" in failure.message
    assert aws.principal in failure.message  # STS's own words name the principal to trust
    assert EXTERNAL_ID not in str(failure) and aws.service_keys["AWS_SECRET_ACCESS_KEY"] not in str(failure)
    assert aws.assumed() == []


def test_a_secret_the_vault_does_not_hold_says_how_to_put_it(vault: LocalVault, aws: MotoRoles) -> None:
    with pytest.raises(CredentialsUnavailable) as caught:
        RoleAssumer(vault, ROLE_REF, sts())()
    assert caught.value.code == "SecretNotFound"
    assert caught.value.message == (
        f"the vault holds no {ROLE_REF}: put it there (python run.py secret put {ROLE_REF} --file FILE)"
    )


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        (
            "srn:vault::acme:secret:squeeze",
            "the worker's Secret: srn:vault::acme:secret:squeeze is a secret reference; this needs one of type "
            "aws-cross-account-role or cross-account-role",
        ),
        ("srn:vault::acme:passwd:x", "the worker's Secret: unknown vault type 'passwd'"),
        (
            "not-a-reference",
            "the worker's Secret: expected a vault reference srn:vault::ORG:TYPE:ALIAS, got something else",
        ),
    ],
)
def test_a_reference_that_names_no_role_is_refused_before_the_vault_or_sts_is_asked(
    vault: LocalVault, aws: MotoRoles, reference: str, problem: str
) -> None:
    vault.put(parse_reference("srn:vault::acme:secret:squeeze"), SecretText("sqz"))
    with pytest.raises(CredentialsUnavailable) as caught:
        RoleAssumer(vault, reference, sts())()
    assert caught.value.code == "InvalidSecretReference"
    assert caught.value.message.startswith(problem)
    assert aws.assumed() == []


def test_connect_clients_on_a_role_that_cannot_be_assumed_fail_at_their_first_call_as_credentials_refused(
    vault: LocalVault, aws: MotoRoles, caplog: pytest.LogCaptureFixture
) -> None:
    clients = RegionClients.create(REGION, session=RoleSessions(vault).for_connect(ROLE_REF, REGION))
    with pytest.raises(CredentialsRefused) as caught:
        clients.contacts.update_attributes("instance-1", "contact-1", {"a": "b"})
    assert (caught.value.operation, caught.value.code) == ("AssumeRole", "SecretNotFound")
    # botocore's own traceback of the failed refresh is not logged: the caller says it once.
    assert not [record for record in caplog.records if record.name == "botocore.credentials"]


def test_sts_out_of_reach_is_worth_retrying(vault: LocalVault, aws: MotoRoles) -> None:
    vault.put(parse_reference(ROLE_REF), aws.role("connect-worker", EXTERNAL_ID))
    unreachable = boto3.client("sts", region_name=REGION, endpoint_url="http://127.0.0.1:9")
    roles = RoleSessions(vault, sts_client=lambda region: unreachable)
    clients = RegionClients.create(REGION, session=roles.for_connect(ROLE_REF, REGION))
    with pytest.raises(RetryableError) as caught:
        clients.contacts.update_attributes("instance-1", "contact-1", {"a": "b"})
    assert caught.value.code == "StsUnavailable"


def test_a_renewal_that_fails_while_the_credentials_still_serve_warns_the_operator(
    vault: LocalVault, aws: MotoRoles, caplog: pytest.LogCaptureFixture
) -> None:
    reference = parse_reference(ROLE_REF)
    vault.put(reference, aws.role("connect-worker", EXTERNAL_ID))
    assumer = RoleAssumer(vault, ROLE_REF, sts())
    assumer()
    vault.delete(reference)
    with caplog.at_level(logging.WARNING), pytest.raises(CredentialsUnavailable):
        assumer()
    [warning] = [record.getMessage() for record in caplog.records if record.name == "roles.assume"]
    assert warning.startswith(f"secret {ROLE_REF}: the role could not be assumed again, its credentials serve until ")
    assert warning.endswith(
        f"SecretNotFound: the vault holds no {ROLE_REF}: put it there (python run.py secret put {ROLE_REF} --file FILE)"
    )
