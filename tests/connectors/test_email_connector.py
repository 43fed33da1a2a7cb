"""The seed's email connector run through boto3 against moto's SES: the customer's address comes from the input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses import ses_backends

from connectors.config import ConnectorConfig, parse_connector_config
from connectors.errors import ConnectorFailed
from connectors.executor import ConnectorExecutor
from tests.connectors.seeds import EMAIL_FILE

REGION = "eu-west-1"
SEED_SOURCE = "YOUR_SOURCE@EMAIL.HERE"


@pytest.fixture
def ses() -> Iterator[Any]:
    """moto's SES (with moto's fake credentials in the environment), the seed's source address verified."""
    with mock_aws():
        client = boto3.client("ses", region_name=REGION)
        client.verify_email_identity(EmailAddress=SEED_SOURCE)
        yield client


@pytest.fixture
def email() -> ConnectorConfig:
    return parse_connector_config(EMAIL_FILE.read_bytes())


def sent_mail() -> list[Any]:
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def test_the_email_goes_to_the_customers_address_from_the_input(ses: Any, email: ConnectorConfig) -> None:
    output = ConnectorExecutor().execute(email, {"email": "maya@example.com", "name": "Maya"}, region=REGION)
    [message] = sent_mail()
    assert output == {"MessageId": message.id}
    assert message.destinations == {"ToAddresses": ["maya@example.com"]}
    assert (message.source, message.subject, message.body) == (SEED_SOURCE, "Subject here", "body of the email")


def test_an_input_without_an_email_is_named_and_nothing_is_sent(ses: Any, email: ConnectorConfig) -> None:
    with pytest.raises(ConnectorFailed) as caught:
        ConnectorExecutor().execute(email, {"name": "Maya"}, region=REGION)
    assert (caught.value.code, caught.value.message) == ("input_missing", "RequestMapping.Email: $.email is not in the input")
    assert sent_mail() == []


def test_an_unverified_source_is_the_services_refusal(ses: Any, email: ConnectorConfig) -> None:
    ses.delete_identity(Identity=SEED_SOURCE)
    with pytest.raises(ConnectorFailed) as caught:
        ConnectorExecutor().execute(email, {"email": "maya@example.com"}, region=REGION)
    assert (caught.value.code, caught.value.retryable) == ("MessageRejected", False)
    assert caught.value.message == f"SES SendEmail: Email address not verified {SEED_SOURCE}"
    assert sent_mail() == []
