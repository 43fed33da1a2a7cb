"""Bad input always gets a 4xx `{"Code", "Message"}` naming what is wrong: never a 500, never plain text."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import urllib.parse
from typing import Any

import pytest

from api.context_limits import MAX_ATTRIBUTES_BYTES
from tests.api.conftest import MAX_BODY_BYTES, Served
from tests.delivery.polling import eventually

VALID_TRANSFER = {"ConversationId": "c-new", "WorkerId": "no-such-worker", "BotName": "Botty", "DeliverTo": None}


def raw(served: Served, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
        chunks: list[bytes] | None = None) -> tuple[int, Any]:
    """One request with http.client, so the body can be sent in chunks with no Content-Length."""
    address = urllib.parse.urlsplit(served.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        all_headers = {"Authorization": f"Bearer {served.alice.token}", **(headers or {})}
        if chunks is not None:
            connection.request(method, path, body=iter(chunks), headers=all_headers, encode_chunked=True)
        else:
            connection.request(method, path, body=body, headers=all_headers)
        answer = connection.getresponse()
        assert answer.getheader("Content-Type") == "application/json", answer.getheader("Content-Type")
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def error_of(answer: tuple[int, Any]) -> tuple[int, str, str]:
    status, body = answer
    assert set(body) == {"Code", "Message"}, body
    return status, body["Code"], body["Message"]


def test_a_valid_body_gets_past_validation_to_the_service(served: Served) -> None:
    assert error_of(served.api(served.alice).call("POST", "/v1/conversations", VALID_TRANSFER))[:2] == (
        404,
        "unknown_worker",
    )


def test_unknown_paths_and_wrong_methods_answer_in_the_one_error_shape(served: Served) -> None:
    assert error_of(raw(served, "GET", "/v2/nothing"))[:2] == (404, "not_found")
    status, code, message = error_of(raw(served, "DELETE", "/v1/conversations"))
    assert (status, code) == (405, "method_not_allowed") and "DELETE" in message
    address = urllib.parse.urlsplit(served.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.request("DELETE", "/v1/conversations")
    allowed = connection.getresponse().getheader("Allow")
    connection.close()
    assert set(allowed.split(", ")) == {"GET", "HEAD", "POST"}


@pytest.mark.parametrize("method, path", [("POST", "/v1/conversations"), ("PUT", "/v1/conversations/c-1/context")])
def test_context_nested_a_thousand_levels_is_refused_naming_it(served: Served, method: str, path: str) -> None:
    served.conversation_of(served.alice, "c-1")
    deep = '{"a":' * 1000 + "1" + "}" * 1000
    fields = '"ConversationId":"c-2","WorkerId":"w","BotName":"B",' if method == "POST" else ""
    body = ('{' + fields + '"Context":' + deep + "}").encode()

    status, code, message = error_of(raw(served, method, path, body))

    assert (status, code) == (400, "invalid_body")
    assert message == "$.Context: nested deeper than 32 levels"


def test_context_nested_32_levels_is_taken(served: Served) -> None:
    served.conversation_of(served.alice, "c-1")
    context = '{"a":' * 31 + '{"b":1' + "}" * 32
    body = ('{"ConversationId":"c-2","WorkerId":"w","BotName":"B","Context":' + context + "}").encode()
    assert error_of(raw(served, "POST", "/v1/conversations", body))[:2] == (404, "unknown_worker")


@pytest.mark.parametrize("after", ["\u00b2", "99999999999999999999999", "-1", "1.0", "\u0663", ""])
def test_a_bad_after_is_refused_naming_it(served: Served, after: str) -> None:
    served.conversation_of(served.alice, "c-1")
    query = urllib.parse.urlencode({"after": after})

    status, code, message = error_of(raw(served, "GET", f"/v1/conversations/c-1/events?{query}"))

    assert (status, code) == (400, "invalid_query")
    assert message.startswith("after: ")


def test_the_largest_after_is_taken(served: Served) -> None:
    served.conversation_of(served.alice, "c-1")
    status, page = raw(served, "GET", f"/v1/conversations/c-1/events?after={2**63 - 1}")
    assert status == 200 and page["Events"] == []


def test_the_pull_streams_other_bad_parameters_answer_in_the_one_error_shape(served: Served) -> None:
    served.conversation_of(served.alice, "c-1")
    assert error_of(raw(served, "GET", "/v1/conversations/c-1/events?wait=31"))[2].startswith("wait: ")
    for bad in ("other:3", "c-1:\u00b2", "c-1:99999999999999999999999", "c-1:"):
        last_event_id = {"Accept": "text/event-stream", "Last-Event-ID": bad}
        status, code, message = error_of(raw(served, "GET", "/v1/conversations/c-1/events", headers=last_event_id))
        assert (status, code) == (400, "invalid_query") and message.startswith("Last-Event-ID: "), bad


def test_a_lone_surrogate_is_named_as_such_and_other_bad_json_keeps_its_reason(served: Served) -> None:
    served.conversation_of(served.alice, "c-1")
    path = "/v1/conversations/c-1/messages"
    for body in (b'{"MessageId": "m-1", "Text": "\\ud800"}', b'{"MessageId": "m-1", "Text": "\xed\xa0\x80"}'):
        status, code, message = error_of(raw(served, "POST", path, body, {"Content-Type": "application/json"}))
        assert (status, code) == (400, "invalid_body")
        assert "lone UTF-16 surrogate" in message, message
    status, code, message = error_of(raw(served, "POST", path, b'{"MessageId": ', {"Content-Type": "application/json"}))
    assert (status, code, message) == (400, "invalid_body", "the body is not valid JSON: Input data was truncated")


@pytest.mark.parametrize("body", [b"", b" \r\n"])
def test_an_empty_body_is_said_to_be_empty(served: Served, body: bytes) -> None:
    served.conversation_of(served.alice, "c-1")
    for method, path in (("POST", "/v1/conversations"), ("POST", "/v1/conversations/c-1/messages"),
                         ("PUT", "/v1/conversations/c-1/context")):
        status, code, message = error_of(raw(served, method, path, body, {"Content-Type": "application/json"}))
        assert (status, code, message) == (400, "invalid_body", "the body is empty: this route takes a JSON object"), path


def test_a_body_declared_too_large_is_refused_before_it_is_read(served: Served) -> None:
    address = urllib.parse.urlsplit(served.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        # Only the headers go: the API must answer without waiting for a body that never comes.
        connection.putrequest("POST", "/v1/conversations")
        connection.putheader("Authorization", f"Bearer {served.alice.token}")
        connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        connection.endheaders()
        answer = connection.getresponse()
        assert (answer.status, json.loads(answer.read())["Code"]) == (413, "body_too_large")
    finally:
        connection.close()


def test_a_chunked_body_is_refused_once_it_passes_the_limit(served: Served) -> None:
    chunks = [b'{"Context":{"a":"', b"x" * MAX_BODY_BYTES, b'"}}']
    assert error_of(raw(served, "POST", "/v1/conversations", chunks=chunks))[:2] == (413, "body_too_large")


def test_a_body_at_the_limit_is_read(served: Served) -> None:
    body = json.dumps(VALID_TRANSFER).encode()
    padded = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert error_of(raw(served, "POST", "/v1/conversations", padded))[:2] == (404, "unknown_worker")


def test_a_context_key_connect_does_not_take_is_refused_naming_it(served: Served) -> None:
    served.conversation_of(served.alice, "c-1")
    api = served.api(served.alice)

    status, code, message = error_of(api.call("PUT", "/v1/conversations/c-1/context", {"Context": {"a b": "x"}}))

    assert (status, code) == (400, "invalid_body")
    assert message.startswith("$.Context: keys must be 1 to 32,767 letters, digits, - or _") and "'a b'" in message


def test_a_context_over_connects_32768_bytes_of_attributes_is_refused_naming_the_limit(served: Served) -> None:
    api = served.api(served.alice)
    # Bytes of UTF-8, not characters: "k" 1, its value 16,000 + 16,765, "n" 1, 1 as JSON 1: 32,768.
    at_limit = {"k": "é" * 8_000 + "x" * (MAX_ATTRIBUTES_BYTES - 3 - 16_000), "n": 1}

    taken = api.call("POST", "/v1/conversations", {**VALID_TRANSFER, "Context": at_limit})
    refused = api.call("POST", "/v1/conversations", {**VALID_TRANSFER, "Context": {**at_limit, "m": ""}})

    assert error_of(taken)[:2] == (404, "unknown_worker")
    status, code, message = error_of(refused)
    assert (status, code) == (400, "invalid_body")
    assert message == "$.Context: 32,769 bytes of keys and values, over Amazon Connect's 32,768 for a contact's attributes"


def test_a_conversation_id_with_a_trailing_newline_is_refused(served: Served) -> None:
    status, code, message = error_of(
        served.api(served.alice).call("POST", "/v1/conversations", {**VALID_TRANSFER, "ConversationId": "c-1\n"})
    )
    assert (status, code) == (400, "invalid_body")
    assert message == "$.ConversationId: expected 1 to 200 letters, digits or . _ : -, got 'c-1\\n'"


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://[::1", "not a URL"),
        ("ftp://bot.example/hook", "must be an http or https URL"),
        ("http://" + "a" * 64 + ".example/", "is not a valid host name"),
        ("http:///hook", "has no host"),
        ("http://169.254.169.254/latest/meta-data/", "link-local or cloud metadata"),
    ],
)
def test_a_deliver_to_that_can_never_be_delivered_to_is_refused_naming_it(served: Served, url: str, why: str) -> None:
    status, code, message = error_of(
        served.api(served.alice).call("POST", "/v1/conversations", {**VALID_TRANSFER, "DeliverTo": url})
    )
    assert (status, code) == (400, "invalid_body")
    assert message.startswith("$.DeliverTo: ") and why in message


def test_a_client_with_allowed_hosts_delivers_only_to_them(served: Served) -> None:
    limited = served.clients.create("limited", allowed_hosts=("bot.example",))
    api = served.api(limited)

    refused = api.call("POST", "/v1/conversations", {**VALID_TRANSFER, "DeliverTo": "https://other.example/hook"})
    taken = api.call("POST", "/v1/conversations", {**VALID_TRANSFER, "DeliverTo": "https://BOT.example/hook"})

    assert error_of(refused)[:2] == (400, "invalid_body") and "$.DeliverTo: host 'other.example'" in error_of(refused)[2]
    assert error_of(taken)[:2] == (404, "unknown_worker")


def test_a_content_type_connect_does_not_take_is_refused_naming_it(served: Served) -> None:
    served.conversation_of(served.alice, "c-1")
    body = {"MessageId": "m-1", "Text": "hi", "ContentType": "text/html"}

    status, code, message = error_of(served.api(served.alice).call("POST", "/v1/conversations/c-1/messages", body))

    assert (status, code) == (400, "invalid_body")
    assert message.startswith("$.ContentType: expected one of text/plain, text/markdown, application/json, ")
    assert message.endswith("got 'text/html'")


def test_every_problem_is_listed_in_words(served: Served) -> None:
    body = {"ConversationId": "bad id!", "WorkerId": 7, "User": {"Name": 5}, "Colour": "red",
            "DeliverTo": "gopher://x", "Context": {"a.b": 1}}

    status, code, message = error_of(served.api(served.alice).call("POST", "/v1/conversations", body))

    assert (status, code) == (400, "invalid_body")
    assert message.split("; ") == [
        "$.ConversationId: expected 1 to 200 letters, digits or . _ : -, got 'bad id!'",
        "$.WorkerId: expected a string of 1 or more characters, got the number 7",
        "$.BotName: required",
        "$.User.Name: expected a string or null, got an integer",
        "$.Colour: not a field of this body",
        "$.Context: keys must be 1 to 32,767 letters, digits, - or _ (Amazon Connect's contact attribute names), "
        "not 'a.b'",
        "$.DeliverTo: must be an http or https URL",
    ]


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'{"a": ', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused(served: Served, body: bytes) -> None:
    assert error_of(raw(served, "POST", "/v1/conversations", body))[:2] == (400, "invalid_body")


def test_a_client_gone_before_its_whole_body_came_is_no_error_of_the_service(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="api.request_body")
    address = urllib.parse.urlsplit(served.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(
            b"POST /v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {served.alice.token}\r\nContent-Length: 100\r\n\r\n".encode()
            + b'{"Conv'
        )

    eventually(lambda: any("before its body came whole" in r.getMessage() for r in caplog.records))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert error_of(served.api(served.alice).call("POST", "/v1/conversations", VALID_TRANSFER))[1] == "unknown_worker"
