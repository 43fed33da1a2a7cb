"""TranslateText: the deterministic rule, its errors, and both protocols."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import cbor2
import pytest

from tests.connect_local.clients import Clients

SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/translate/aws4_request, SignedHeaders=host, Signature=00"


def translated(clients: Clients, text: str, source: str, target: str) -> str:
    answer = clients.translate.translate_text(Text=text, SourceLanguageCode=source, TargetLanguageCode=target)
    assert answer["TargetLanguageCode"] == target
    return answer["TranslatedText"]


def test_known_phrases_are_translated_and_others_bracketed(clients: Clients) -> None:
    assert translated(clients, "Hello", "en", "es") == "hola"
    assert translated(clients, " thank you ", "en", "fr") == "merci"
    assert translated(clients, "gracias", "es", "en") == "thank you"
    assert translated(clients, "where is my order", "en", "es") == "[es] where is my order"
    assert translated(clients, "same language", "en", "en") == "same language"


def test_auto_detection_reads_english(clients: Clients) -> None:
    answer = clients.translate.translate_text(Text="hello", SourceLanguageCode="auto", TargetLanguageCode="de")
    assert (answer["TranslatedText"], answer["SourceLanguageCode"]) == ("hallo", "en")


def test_an_unsupported_language_pair_is_refused(clients: Clients) -> None:
    with pytest.raises(clients.translate.exceptions.UnsupportedLanguagePairException):
        clients.translate.translate_text(Text="hello", SourceLanguageCode="en", TargetLanguageCode="xx")


def test_text_over_10000_bytes_is_refused(clients: Clients) -> None:
    with pytest.raises(clients.translate.exceptions.TextSizeLimitExceededException):
        clients.translate.translate_text(Text="é" * 5001, SourceLanguageCode="en", TargetLanguageCode="es")


def test_translate_follows_region_outages_and_throttling(clients: Clients) -> None:
    clients.server.throttle_next(1, operation="TranslateText")
    with pytest.raises(clients.translate.exceptions.TooManyRequestsException):
        clients.translate.translate_text(Text="hello", SourceLanguageCode="en", TargetLanguageCode="es")
    clients.server.set_outage("us-east-1")
    with pytest.raises(clients.translate.exceptions.ServiceUnavailableException):
        clients.translate.translate_text(Text="hello", SourceLanguageCode="en", TargetLanguageCode="es")


def post(clients: Clients, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(clients.server.endpoint_url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_smithy_rpc_v2_cbor_protocol_is_served(clients: Clients) -> None:
    path = "/service/AWSShineFrontendService_20170701/operation/TranslateText"
    headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Authorization": SIGNED}
    body = cbor2.dumps({"Text": "hello", "SourceLanguageCode": "en", "TargetLanguageCode": "es"})

    status, answer_headers, answer = post(clients, path, body, headers)

    assert status == 200
    assert answer_headers["smithy-protocol"] == "rpc-v2-cbor"
    assert cbor2.loads(answer) == {"TranslatedText": "hola", "SourceLanguageCode": "en", "TargetLanguageCode": "es"}
    status, _, error = post(clients, path, cbor2.dumps({"Text": "hi"}), headers)
    assert status == 400
    assert cbor2.loads(error)["__type"].endswith("#InvalidRequestException")


def test_the_json_protocol_is_served(clients: Clients) -> None:
    headers = {
        "X-Amz-Target": "AWSShineFrontendService_20170701.TranslateText",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": SIGNED,
    }
    body = json.dumps({"Text": "goodbye", "SourceLanguageCode": "en", "TargetLanguageCode": "es"}).encode()
    status, _, answer = post(clients, "/", body, headers)
    assert status == 200
    assert json.loads(answer)["TranslatedText"] == "adiós"
