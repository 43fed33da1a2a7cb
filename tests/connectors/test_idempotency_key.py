"""The idempotency hook: the caller's key becomes the operation's idempotency token where the model has one."""

from __future__ import annotations

import json

import boto3
import pytest

from connect_local import LocalConnect
from connectors.aws_operations import find_operation
from connectors.config import ConnectorConfig, parse_connector_config
from connectors.executor import ConnectorExecutor, with_idempotency_key


def start_chat_connector(server: LocalConnect) -> ConnectorConfig:
    """A connector that starts an Amazon Connect chat: StartChatContact's ClientToken is an idempotency token."""
    info = server.ready_info()
    return parse_connector_config(
        json.dumps(
            {
                "Alias": "startChat",
                "Type": "aws-sdk",
                "Endpoint": "Connect",
                "Method": "startChatContact",
                "Credentials": "srn:vault::acme:cross-account-role:connect",
                "Body": {"InstanceId": info["instance_id"], "ContactFlowId": info["contact_flow_id"]},
                "RequestMapping": {
                    "Name": {"type": "requestBody", "inputPath": "$.name", "requestBodyPath": "$.ParticipantDetails.DisplayName"}
                },
                "ResponseMapping": {
                    "Contact": {"type": "responseBody", "responseBodyPath": "$.ContactId", "outputPath": "$.ContactId"}
                },
            }
        )
    )


@pytest.fixture
def executor() -> ConnectorExecutor:
    return ConnectorExecutor(lambda reference: boto3.session.Session(aws_access_key_id="AKIDLOCAL", aws_secret_access_key="local"))


def test_the_same_key_makes_the_call_once(executor: ConnectorExecutor, server: LocalConnect) -> None:
    connector = start_chat_connector(server)

    def run(key: str) -> dict:
        return executor.execute(connector, {"name": "Maya"}, region="us-east-1", endpoint_url=server.endpoint_url, idempotency_key=key)

    first = run("conversation-c-1/7")
    assert run("conversation-c-1/7") == first
    assert run("conversation-c-1/9")["ContactId"] != first["ContactId"]


def test_a_key_is_set_only_where_the_model_has_a_token_and_the_mapping_set_none() -> None:
    start_chat = find_operation("Connect", "startChatContact")
    translate = find_operation("Translate", "translateText")
    send_email = find_operation("SES", "sendEmail")
    assert with_idempotency_key({"InstanceId": "i"}, start_chat, "k") == {"InstanceId": "i", "ClientToken": "k"}
    assert with_idempotency_key({"ClientToken": "mine"}, start_chat, "k") == {"ClientToken": "mine"}
    assert with_idempotency_key({"Text": "hello"}, translate, "k") == {"Text": "hello"}
    assert send_email.idempotency_member is None and translate.idempotency_member is None
