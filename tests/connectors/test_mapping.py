"""The pure half of a connector run: the request from the input, the output from the response."""

from __future__ import annotations

import datetime
import json

import pytest

from connectors.config import ConnectorConfig, parse_connector_config
from connectors.errors import ConnectorFailed
from connectors.mapping import build_request, map_response
from tests.connectors.seeds import seed_email, seed_translate


def connector(document: dict) -> ConnectorConfig:
    return parse_connector_config(json.dumps(document))


def test_the_email_request_is_the_body_with_the_customers_address_written_in() -> None:
    email = connector(seed_email())
    request = build_request(email, {"email": "maya@example.com", "name": "Maya"})
    assert request == {
        "Message": {"Body": {"Text": {"Data": "body of the email"}}, "Subject": {"Data": "Subject here"}},
        "Source": "YOUR_SOURCE@EMAIL.HERE",
        "Destination": {"ToAddresses": ["maya@example.com"]},
    }
    assert "Destination" not in email.body, "the connector's template must not change"


def test_the_translate_request_takes_its_three_values_from_the_input() -> None:
    input = {"Text": "hello", "SourceLanguageCode": "en", "TargetLanguageCode": "es", "Order": "4711"}
    assert build_request(connector(seed_translate()), input) == {
        "TargetLanguageCode": "es", "Text": "hello", "SourceLanguageCode": "en"
    }


def test_every_value_the_input_lacks_is_named_by_its_entry_and_path() -> None:
    with pytest.raises(ConnectorFailed) as caught:
        build_request(connector(seed_translate()), {"Text": "hello", "SourceLanguageCode": None})
    assert caught.value.code == "input_missing"
    assert caught.value.message == (
        "RequestMapping.TargetLanguageCode: $.TargetLanguageCode is not in the input; "
        "RequestMapping.SourceLanguageCode: $.SourceLanguageCode is null in the input"
    )
    assert not caught.value.retryable


def test_an_input_value_that_cannot_be_written_is_named() -> None:
    document = seed_email()
    document["RequestMapping"] = {
        "Destination": {"type": "requestBody", "inputPath": "$.destination", "requestBodyPath": "$.Destination"},
        "Email": {"type": "requestBody", "inputPath": "$.email", "requestBodyPath": "$.Destination.ToAddresses[0]"},
    }
    email = connector(document)
    request = build_request(email, {"destination": {"CcAddresses": ["team@example.com"]}, "email": "maya@example.com"})
    assert request["Destination"] == {"CcAddresses": ["team@example.com"], "ToAddresses": ["maya@example.com"]}
    with pytest.raises(ConnectorFailed) as caught:
        build_request(email, {"destination": "team@example.com", "email": "maya@example.com"})
    assert caught.value.code == "mapping_failed"
    assert caught.value.message == (
        "RequestMapping.Email: cannot write $.Destination.ToAddresses[0]: $.Destination holds a string, not an object"
    )


def test_an_input_path_with_a_wildcard_writes_every_value_it_finds() -> None:
    document = seed_email()
    document["RequestMapping"]["Email"] = {"type": "requestBody", "inputPath": "$.people[*].email", "requestBodyPath": "$.Destination.ToAddresses"}
    request = build_request(connector(document), {"people": [{"email": "a@example.com"}, {"email": "b@example.com"}]})
    assert request["Destination"] == {"ToAddresses": ["a@example.com", "b@example.com"]}


TRANSLATE_RESPONSE = {
    "TranslatedText": "hola",
    "SourceLanguageCode": "en",
    "TargetLanguageCode": "es",
    "ResponseMetadata": {"RequestId": "r-1", "HTTPStatusCode": 200},
}


def test_an_empty_response_mapping_gives_the_whole_response_without_its_metadata() -> None:
    assert map_response(connector(seed_translate()), TRANSLATE_RESPONSE) == {
        "TranslatedText": "hola", "SourceLanguageCode": "en", "TargetLanguageCode": "es"
    }


def test_the_output_is_plain_json() -> None:
    at = datetime.datetime(2026, 11, 24, 7, 0, tzinfo=datetime.UTC)
    output = map_response(connector(seed_translate()), {"At": at, "Blob": b"\x00\x01"})
    assert json.loads(json.dumps(output)) == {"At": "2026-11-24T07:00:00Z", "Blob": "AAE="}


def test_a_response_mapping_picks_values_into_the_output() -> None:
    document = seed_translate()
    document["ResponseMapping"] = {
        "Text": {"type": "responseBody", "responseBodyPath": "$.TranslatedText", "outputPath": "$.Translation.Text"}
    }
    assert map_response(connector(document), TRANSLATE_RESPONSE) == {"Translation": {"Text": "hola"}}


def test_a_response_value_that_is_missing_is_named() -> None:
    document = seed_translate()
    document["ResponseMapping"] = {
        "Terms": {"type": "responseBody", "responseBodyPath": "$.AppliedTerminologies[0].Name", "outputPath": "$.Terms"}
    }
    with pytest.raises(ConnectorFailed) as caught:
        map_response(connector(document), TRANSLATE_RESPONSE)
    assert (caught.value.code, caught.value.message) == (
        "response_missing", "ResponseMapping.Terms: $.AppliedTerminologies[0].Name is not in the response"
    )
