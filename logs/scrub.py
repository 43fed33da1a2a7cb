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

    A line is scrubbed in time that grows with its length, not with the number of credentials held
    (20,000 conversations hold about 40,000): each value is indexed by its first MIN_SECRET_LENGTH
    characters, and every such window of the text is looked up once. A value held can only appear
    where its first characters do, so none is missed.

    >>> known = KnownSecrets()
    >>> known.hold("c-1", ["participant-token-0123456789"])
    >>> known.scrub("retrying with participant-token-0123456789")
    'retrying with <redacted>'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_owner: dict[str, frozenset[str]] = {}
        # The first MIN_SECRET_LENGTH characters of each value held -> the values that start with them,
        # each with how many owners hold it (two owners may hold the same value).
        self._by_prefix: dict[str, dict[str, int]] = {}

    def hold(self, owner: str, values: Iterable[str | None]) -> None:
        """`owner`'s credentials are these from now on (the ones it held before are let go)."""
        kept = frozenset(value for value in values if value and len(value) >= MIN_SECRET_LENGTH)
        with self._lock:
            before = self._by_owner.get(owner, frozenset())
            if before == kept:
                return
            if kept:
                self._by_owner[owner] = kept
            else:
                self._by_owner.pop(owner, None)
            for value in before - kept:
                self._forget(value)
            for value in kept - before:
                holders = self._by_prefix.setdefault(value[:MIN_SECRET_LENGTH], {})
                holders[value] = holders.get(value, 0) + 1

    def release(self, owner: str) -> None:
        self.hold(owner, ())

    def scrub(self, text: str) -> str:
        with self._lock:
            by_prefix = self._by_prefix
            found = [
                value
                for start in range(len(text) - MIN_SECRET_LENGTH + 1)
                if (holders := by_prefix.get(text[start : start + MIN_SECRET_LENGTH]))
                for value in holders
            ]
        # Longest first, so that a value that begins another cannot leave the other's tail behind.
        for value in sorted(set(found), key=len, reverse=True):
            text = text.replace(value, REDACTED)
        return text

    def _forget(self, value: str) -> None:
        """One owner fewer holds `value`. Call with the lock held."""
        prefix = value[:MIN_SECRET_LENGTH]
        holders = self._by_prefix[prefix]
        holders[value] -= 1
        if holders[value] == 0:
            del holders[value]
            if not holders:
                del self._by_prefix[prefix]


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
