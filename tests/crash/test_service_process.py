"""The harness's webhook verification is not vacuous: it accepts what the service's schemes sign (Standard
Webhooks, checked against the reference `standardwebhooks` library, and the earlier X-Connect-Worker
HMAC) and refuses a changed body, a wrong secret and a stale timestamp."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from tests.crash.service_process import parse_webhook, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"a key of the crash test").decode()
BODY = b'{"Id": "c:3", "ConversationId": "c", "Seq": 3, "Type": "AgentJoined", "AgentName": "Ana"}'
NOW = 1_800_000_000


def standard_headers(secret: str, body: bytes, at: int) -> dict[str, str]:
    signed = Webhook(secret).sign("c:3", datetime.fromtimestamp(at, UTC), body.decode())
    return {"webhook-id": "c:3", "webhook-timestamp": str(at), "webhook-signature": signed}


def test_standard_webhooks_signatures_are_verified() -> None:
    assert verify_webhook(SECRET, BODY, standard_headers(SECRET, BODY, NOW), now=NOW + 5)
    assert not verify_webhook(SECRET, BODY.replace(b"Ana", b"Eve"), standard_headers(SECRET, BODY, NOW), now=NOW)
    other = "whsec_" + base64.b64encode(b"another key").decode()
    assert not verify_webhook(SECRET, BODY, standard_headers(other, BODY, NOW), now=NOW)
    assert not verify_webhook(SECRET, BODY, standard_headers(SECRET, BODY, NOW), now=NOW + 3600)


def test_the_earlier_hmac_headers_are_verified() -> None:
    signature = "sha256=" + hmac.new(b"plain", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    headers = {"X-Connect-Worker-Timestamp": str(NOW), "X-Connect-Worker-Signature": signature}
    assert verify_webhook("plain", BODY, headers, now=NOW)
    assert not verify_webhook("plain", BODY + b" ", headers, now=NOW)


def test_a_message_is_read_from_its_body() -> None:
    message = parse_webhook(BODY, {})
    assert (message.id, message.conversation_id, message.seq, message.type) == ("c:3", "c", 3, "AgentJoined")
