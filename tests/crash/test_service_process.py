"""The harness's webhook verification is not vacuous: it accepts what the service signs (Standard Webhooks
headers made by delivery/signature.py) and refuses a changed body, a wrong secret, a stale timestamp and
missing or malformed headers; the receiver answers such POSTs 401 and counts them."""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.request

import pytest

from delivery.signature import signature_headers
from tests.crash.receiver import WebhookReceiver
from tests.crash.service_process import parse_webhook, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"a key of the crash test").decode()
OTHER = "whsec_" + base64.b64encode(b"another key").decode()
BODY = b'{"Id": "c:3", "ConversationId": "c", "Seq": 3, "Type": "AgentJoined", "AgentName": "Ana"}'


def signed(secret: str = SECRET, body: bytes = BODY, at: int | None = None) -> dict[str, str]:
    return signature_headers(secret, "c:3", body, timestamp=int(time.time()) if at is None else at)


def test_what_the_service_signs_is_verified() -> None:
    assert verify_webhook(SECRET, BODY, signed())
    assert verify_webhook(SECRET, BODY, {k.title(): v for k, v in signed().items()})  # as http.server hands them


def test_a_changed_body_a_wrong_secret_or_a_stale_timestamp_is_refused() -> None:
    assert not verify_webhook(SECRET, BODY.replace(b"Ana", b"Eve"), signed())
    assert not verify_webhook(SECRET, BODY, signed(OTHER))
    assert not verify_webhook(SECRET, BODY, signed(at=int(time.time()) - 3600))
    assert not verify_webhook(SECRET, BODY, {**signed(), "webhook-id": "c:4"})


@pytest.mark.parametrize("headers", [
    {},
    {"webhook-id": "c:3", "webhook-timestamp": "1"},
    {"webhook-id": "c:3", "webhook-timestamp": "now", "webhook-signature": "v1,AAAA"},
    {"webhook-id": "c:3", "webhook-timestamp": str(int(time.time())), "webhook-signature": "no comma"},
    {"webhook-id": "c:3", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,not base64!"},
])
def test_missing_or_malformed_headers_are_refused(headers: dict[str, str]) -> None:
    assert not verify_webhook(SECRET, BODY, headers)


def test_the_receiver_answers_401_to_what_does_not_verify_and_counts_it() -> None:
    receiver = WebhookReceiver().start()
    try:
        receiver.secret = SECRET
        assert post(receiver.url, BODY, {}) == 401
        assert post(receiver.url, BODY, signed(OTHER)) == 401
        assert post(receiver.url, BODY, signed()) == 204
        assert receiver.unsigned == 2 and len(receiver.unsigned_samples) == 2
        assert [m.id for m in receiver.arrivals("c")] == ["c:3"]
    finally:
        receiver.stop()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_message_is_read_from_its_body() -> None:
    message = parse_webhook(BODY)
    assert (message.id, message.conversation_id, message.seq, message.type) == ("c:3", "c", 3, "AgentJoined")
