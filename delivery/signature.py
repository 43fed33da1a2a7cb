"""Webhook signatures in the Standard Webhooks scheme (https://www.standardwebhooks.com).

Each POST carries `webhook-id` (the message's delivery Id, the same on every
retry), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed
with a secret written `whsec_<base64 of the key>`. Any Standard Webhooks
verifier, in any language, checks them; signing is the `standardwebhooks`
library's own, so ours cannot drift from what the verifiers expect.

    signature_headers("whsec_c2VjcmV0", "c:1", b'{"Id":"c:1"}', timestamp=1700000000)
    # {'webhook-id': 'c:1', 'webhook-timestamp': '1700000000', 'webhook-signature': 'v1,<base64>'}
"""

from __future__ import annotations

import binascii
from datetime import UTC, datetime

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"


class BadSecret(ValueError):
    """The signing secret is not `whsec_` and a non-empty base64 key."""


def signature_headers(secret: str, message_id: str, body: bytes, *, timestamp: int) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, sent as message `message_id` at `timestamp`."""
    if not secret.startswith(SECRET_PREFIX):
        raise BadSecret(f"a signing secret is written {SECRET_PREFIX}<base64>")
    try:
        webhook = Webhook(secret)
    except (binascii.Error, EmptyWebhookSecretError):
        raise BadSecret(f"a signing secret is written {SECRET_PREFIX}<base64>, with a non-empty key") from None
    signed = webhook.sign(message_id, datetime.fromtimestamp(timestamp, UTC), body.decode())
    return {ID_HEADER: message_id, TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signed}

