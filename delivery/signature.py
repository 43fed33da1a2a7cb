"""HMAC-SHA256 signatures of webhook bodies, so a bot can tell our POSTs from anyone else's.

The signed bytes are `"<timestamp>." + body`: the timestamp is signed with the
body, so a captured request cannot be replayed later with a fresh timestamp.

    >>> headers = signature_headers(b"secret", b'{"Id":"c:1"}', timestamp=1700000000)
    >>> verify(b"secret", b'{"Id":"c:1"}', headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], now=1700000010)
    True
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Connect-Worker-Signature"
TIMESTAMP_HEADER = "X-Connect-Worker-Timestamp"
DELIVERY_ID_HEADER = "X-Connect-Worker-Delivery-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_headers(secret: bytes, body: bytes, *, timestamp: int) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, body, timestamp)}


def verify(secret: bytes, body: bytes, timestamp: str, signed: str, *, now: float,
           tolerance: float = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """What a bot does with a webhook POST: the signature matches and the timestamp is recent."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, body, sent_at), signed)
