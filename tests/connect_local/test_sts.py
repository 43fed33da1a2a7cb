"""STS AssumeRole through boto3: any role is assumed with temporary credentials, a role given an
external id refuses any other with AccessDenied, every call is listed without the external id, and
STS's form-encoded POST / is not taken for SES's."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from connect_local import LocalConnect
from tests.connect_local.clients import Clients, boto_client
from tests.connect_local.test_ses import MESSAGE, UNCHECKED, ses_client

ROLE = "arn:aws:iam::210987654321:role/connect-worker"


def sts_client(server: LocalConnect, region: str = "us-east-1", config: BotoConfig = UNCHECKED) -> Any:
    return boto_client("sts", server, region, config)


def admin(server: LocalConnect, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{server.endpoint_url}/admin/{path}", data=data)) as answer:
        return json.loads(answer.read())


def test_any_role_is_assumed_with_credentials_that_expire_after_the_duration(clients: Clients) -> None:
    before = time.time()
    answer = sts_client(clients.server, "eu-west-2").assume_role(
        RoleArn=ROLE, RoleSessionName="connect-worker.acme.connect", ExternalId="ext-1", DurationSeconds=900
    )
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert credentials["SecretAccessKey"] and credentials["SessionToken"]
    assert before + 899 <= credentials["Expiration"].timestamp() <= time.time() + 901
    assert answer["AssumedRoleUser"]["Arn"].endswith(":assumed-role/connect-worker/connect-worker.acme.connect")
    [call] = admin(clients.server, "assume-role-calls")["Calls"]
    assert call["RoleArn"] == ROLE and call["RoleSessionName"] == "connect-worker.acme.connect"
    assert call["ExternalIdPresent"] is True and call["Region"] == "eu-west-2" and call["Granted"] is True


def test_a_role_given_an_external_id_refuses_another_or_none_and_never_shows_it(clients: Clients) -> None:
    admin(clients.server, "assume-role/external-id", {"RoleArn": ROLE, "ExternalId": "the-right-one"})
    sts = sts_client(clients.server)
    for wrong in ({"ExternalId": "the-wrong-one"}, {}):
        with pytest.raises(ClientError) as caught:
            sts.assume_role(RoleArn=ROLE, RoleSessionName="ss", **wrong)
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    sts.assume_role(RoleArn=ROLE, RoleSessionName="ss", ExternalId="the-right-one")
    calls = admin(clients.server, "assume-role-calls")["Calls"]
    assert [(c["ExternalIdPresent"], c["Granted"]) for c in calls] == [(True, False), (False, False), (True, True)]
    assert "the-right-one" not in json.dumps(calls) and "the-wrong-one" not in json.dumps(calls)


def test_an_invalid_call_is_refused_in_the_query_error_shape(clients: Clients) -> None:
    with pytest.raises(ClientError) as caught:
        sts_client(clients.server).get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidAction"
    with pytest.raises(ClientError) as caught:
        sts_client(clients.server).assume_role(RoleArn=ROLE, RoleSessionName="ss", DurationSeconds=60)
    assert caught.value.response["Error"]["Code"] == "ValidationError"


def test_ses_still_takes_its_forms_beside_sts(clients: Clients) -> None:
    ses_client(clients.server).send_email(Source="shop@example.com", Destination={"ToAddresses": ["a@example.com"]},
                                          Message=MESSAGE)
    assert len(clients.server.sent_emails()) == 1
    assert clients.server.assume_role_calls() == []
