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

    A line is scrubbed by looking up each run of MIN_SECRET_LENGTH characters of it among the held
    values' first characters: its cost grows with the line, not with the conversations running. (Testing
    every held value against the line cost 5 ms a line at 20,000 conversations, with the GIL held, and
    a burst of warnings starved the socket hub until heartbeats went unanswered: bench/README.md.)

    >>> known = KnownSecrets()
    >>> known.hold("c-1", ["participant-token-0123456789"])
    >>> known.scrub("retrying with participant-token-0123456789")
    'retrying with <redacted>'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_owner: dict[str, frozenset[str]] = {}
        # A value's first MIN_SECRET_LENGTH characters -> the held values that start with them, each with
        # how many owners hold it (two conversations may hold the same token for a moment).
        self._by_prefix: dict[str, dict[str, int]] = {}

    def hold(self, owner: str, values: Iterable[str | None]) -> None:
        """`owner`'s credentials are these from now on (the ones it held before are let go)."""
        kept = frozenset(value for value in values if value and len(value) >= MIN_SECRET_LENGTH)
        with self._lock:
            if self._by_owner.get(owner) == kept:
                return
            self._let_go(owner)
            if kept:
                self._by_owner[owner] = kept
                for value in kept:
                    holders = self._by_prefix.setdefault(value[:MIN_SECRET_LENGTH], {})
                    holders[value] = holders.get(value, 0) + 1

    def release(self, owner: str) -> None:
        with self._lock:
            self._let_go(owner)

    def _let_go(self, owner: str) -> None:
        for value in self._by_owner.pop(owner, frozenset()):
            prefix = value[:MIN_SECRET_LENGTH]
            holders = self._by_prefix[prefix]
            holders[value] -= 1
            if not holders[value]:
                del holders[value]
                if not holders:
                    del self._by_prefix[prefix]

    def scrub(self, text: str) -> str:
        found: set[str] = set()
        with self._lock:
            for start in range(len(text) - MIN_SECRET_LENGTH + 1):
                holders = self._by_prefix.get(text[start : start + MIN_SECRET_LENGTH])
                if holders:
                    found.update(value for value in holders if text.startswith(value, start))
        for value in sorted(found, key=len, reverse=True):
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
