"""The last line of defence: no credential reaches a log line, whatever the code that logged it.

The code names conversations and reasons, never a token (tests/security checks it); this processor
catches what slips through all the same, in the message, every field and a traceback's text:

- the participant and connection tokens of the conversations running here, by value: each
  conversation's actor holds its own in `KNOWN_SECRETS` while it runs (a Connect token has no shape
  that a pattern could tell from an id);
- anything shaped like a credential: `Bearer ...` (the bots' API tokens), `whsec_...` (webhook
  signing secrets), a token or signature in a URL's query, a `participant_token`/`ConnectionToken`
  field written out with its value;
- the value of a field whose name says it holds a secret (`token`, `secret`, `password`, `authorization`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any

REDACTED = "<redacted>"
# Shorter values are not tokens (and scrubbing them would eat ordinary words).
MIN_SECRET_LENGTH = 12

_SHAPES = (
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + REDACTED),
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]+"), "whsec_" + REDACTED),
    (
        re.compile(r"(?i)([?&](?:x-amz-security-token|x-amz-signature|x-amz-credential|token|key|signature)=)[^&#\s\"']+"),
        r"\1" + REDACTED,
    ),
    (
        re.compile(r"(?i)((?:participant|connection|session)_?token['\"]?\s*[:=]\s*['\"]?)(?!<redacted>)[^'\"\s,;}&)]+"),
        r"\1" + REDACTED,
    ),
)
_SECRET_FIELD = re.compile(r"(?i)token|secret|password|authorization")


class KnownSecrets:
    """The credentials in use in this process, by owner (a conversation id), so that a log line can be
    scrubbed of them by value. Thread-safe: actors hold and release on their own threads.

    >>> known = KnownSecrets()
    >>> known.hold("c-1", ["participant-token-0123456789"])
    >>> known.scrub("retrying with participant-token-0123456789")
    'retrying with <redacted>'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_owner: dict[str, frozenset[str]] = {}

    def hold(self, owner: str, values: Iterable[str | None]) -> None:
        """`owner`'s credentials are these from now on (the ones it held before are let go)."""
        kept = frozenset(value for value in values if value and len(value) >= MIN_SECRET_LENGTH)
        with self._lock:
            if self._by_owner.get(owner) == kept:
                return
            if kept:
                self._by_owner[owner] = kept
            else:
                self._by_owner.pop(owner, None)

    def release(self, owner: str) -> None:
        with self._lock:
            self._by_owner.pop(owner, None)

    def scrub(self, text: str) -> str:
        with self._lock:
            held = list(self._by_owner.values())
        for values in held:
            for value in values:
                if value in text:
                    text = text.replace(value, REDACTED)
        return text


KNOWN_SECRETS = KnownSecrets()


def scrub_text(text: str, known: KnownSecrets = KNOWN_SECRETS) -> str:
    """The text with every credential it holds replaced by "<redacted>"."""
    text = known.scrub(text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


def scrub_secrets(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: every field's text scrubbed, a secret-named field's value replaced."""
    for key, value in event_dict.items():
        if _SECRET_FIELD.search(key) and value is not None:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrubbed(value)
    return event_dict


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: REDACTED if isinstance(key, str) and _SECRET_FIELD.search(key) else _scrubbed(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrubbed(item) for item in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return scrub_text(str(value))
