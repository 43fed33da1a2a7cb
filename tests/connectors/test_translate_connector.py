"""The seed's translate connector run through boto3 against the local Amazon Connect's TranslateText."""

from __future__ import annotations

import socket
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from connect_local import LocalConnect
from connectors.config import ConnectorConfig, parse_connector_config
from connectors.errors import ConnectorFailed
from connectors.executor import ConnectorExecutor
from tests.connectors.seeds import TRANSLATE_FILE

SECRET_KEY = "local-secret-key-never-shown"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


class LocalCredentials:
    """A credentials resolver for the local service: fixed keys, and a record of each reference asked for."""

    def __init__(self) -> None:
        self.references: list[str] = []

    def __call__(self, reference: str) -> boto3.session.Session:
        self.references.append(reference)
        return boto3.session.Session(aws_access_key_id="AKIDLOCAL", aws_secret_access_key=SECRET_KEY)


@pytest.fixture
def translate() -> ConnectorConfig:
    return parse_connector_config(TRANSLATE_FILE.read_bytes())


@pytest.fixture
def credentials() -> LocalCredentials:
    return LocalCredentials()


@pytest.fixture
def executor(credentials: LocalCredentials) -> ConnectorExecutor:
    return ConnectorExecutor(credentials, config=NO_RETRIES)


def context(text: str, source: str = "en", target: str = "es") -> dict:
    """A conversation's context with the message and its languages, as the translation feature will pass it."""
    return {"Order": "4711", "name": "Maya", "Text": text, "SourceLanguageCode": source, "TargetLanguageCode": target}


def test_hello_in_english_is_hola_in_spanish(
    translate: ConnectorConfig, executor: ConnectorExecutor, server: LocalConnect
) -> None:
    output = executor.execute(translate, context("hello"), region="us-east-1", endpoint_url=server.endpoint_url)
    assert output == {"TranslatedText": "hola", "SourceLanguageCode": "en", "TargetLanguageCode": "es"}


def test_the_credentials_reference_is_resolved_once_per_client(
    translate: ConnectorConfig, executor: ConnectorExecutor, credentials: LocalCredentials, server: LocalConnect
) -> None:
    for text in ("hello", "thank you"):
        executor.execute(translate, context(text), region="us-east-1", endpoint_url=server.endpoint_url)
    assert credentials.references == ["srn:vault::YOURORG:secretdoc:translatesecret"]


def test_a_value_missing_from_the_input_is_named_and_nothing_is_called(
    translate: ConnectorConfig, executor: ConnectorExecutor, server: LocalConnect
) -> None:
    server.set_outage("us-east-1")  # a call would fail otherwise: this proves none was made
    with pytest.raises(ConnectorFailed) as caught:
        executor.execute(translate, {"Text": "hello", "SourceLanguageCode": "en"}, region="us-east-1", endpoint_url=server.endpoint_url)
    assert (caught.value.code, caught.value.message) == (
        "input_missing", "RequestMapping.TargetLanguageCode: $.TargetLanguageCode is not in the input"
    )


def test_a_request_botocore_refuses_names_the_parameter(
    translate: ConnectorConfig, executor: ConnectorExecutor, server: LocalConnect
) -> None:
    with pytest.raises(ConnectorFailed) as caught:
        executor.execute(translate, context(42), region="us-east-1", endpoint_url=server.endpoint_url)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_request"
    assert caught.value.message.startswith(
        "the request is not valid for Translate TranslateText: Invalid type for parameter Text, value: 42"
    )


def test_the_services_refusal_keeps_its_code_and_never_shows_the_credentials(
    translate: ConnectorConfig, executor: ConnectorExecutor, server: LocalConnect
) -> None:
    with pytest.raises(ConnectorFailed) as caught:
        executor.execute(translate, context("hello", target="xx"), region="us-east-1", endpoint_url=server.endpoint_url)
    failure = caught.value
    assert failure.code == "UnsupportedLanguagePairException"
    assert failure.message.startswith("Translate TranslateText: ")
    assert not failure.retryable
    assert SECRET_KEY not in str(failure) and "AKIDLOCAL" not in str(failure)


def test_a_throttled_call_is_retryable(translate: ConnectorConfig, executor: ConnectorExecutor, server: LocalConnect) -> None:
    server.throttle_next(1, operation="TranslateText")
    with pytest.raises(ConnectorFailed) as caught:
        executor.execute(translate, context("hello"), region="us-east-1", endpoint_url=server.endpoint_url)
    assert (caught.value.code, caught.value.retryable) == ("TooManyRequestsException", True)
    assert executor.execute(translate, context("hello"), region="us-east-1", endpoint_url=server.endpoint_url)["TranslatedText"] == "hola"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_service_that_cannot_be_reached_is_retryable(translate: ConnectorConfig, executor: ConnectorExecutor) -> None:
    with pytest.raises(ConnectorFailed) as caught:
        executor.execute(translate, context("hello"), region="us-east-1", endpoint_url=f"http://127.0.0.1:{closed_port()}")
    assert (caught.value.code, caught.value.retryable) == ("unreachable", True)


def test_no_credentials_in_the_default_chain_is_named(
    translate: ConnectorConfig, server: LocalConnect, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ConnectorFailed) as caught:
        ConnectorExecutor().execute(translate, context("hello"), region="us-east-1", endpoint_url=server.endpoint_url)
    assert (caught.value.code, caught.value.retryable) == ("no_credentials", False)
