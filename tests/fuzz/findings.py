"""What the API fuzz found in code owned elsewhere, not fixed yet: each a precise request and answer.

The fuzz lets an answer that matches one of these through (and counts it), and `test_known_findings.py`
reproduces each by hand as a strict xfail: when one is fixed its test passes, fails as XPASS, and the
entry here and its test are removed together.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import schemathesis

# Past what Python's sqlite3 binds as an INTEGER (it raises OverflowError).
TOO_BIG_FOR_SQLITE = 2**64


@dataclass(frozen=True)
class Finding:
    name: str
    reason: str
    matches: Callable[[schemathesis.Case, schemathesis.Response], bool]


def _is_method_not_allowed_text(case: schemathesis.Case, answer: schemathesis.Response) -> bool:
    return answer.status_code == 405 and answer.content == b"Method Not Allowed"


def _is_pull_error_shape(case: schemathesis.Case, answer: schemathesis.Response) -> bool:
    if not case.operation.path.endswith("/events") or not 400 <= answer.status_code < 500:
        return False
    try:
        body = json.loads(answer.content)
    except ValueError:
        return False
    return isinstance(body, dict) and set(body) == {"Error"}


def _is_pull_after_overflow(case: schemathesis.Case, answer: schemathesis.Response) -> bool:
    after = (case.query or {}).get("after") if isinstance(case.query, dict) else None
    try:
        too_big = int(after) >= TOO_BIG_FOR_SQLITE
    except (TypeError, ValueError):
        return False
    return case.operation.path.endswith("/events") and answer.status_code == 500 and too_big


def _is_pull_after_unicode_digit(case: schemathesis.Case, answer: schemathesis.Response) -> bool:
    after = (case.query or {}).get("after") if isinstance(case.query, dict) else None
    unicode_digit = isinstance(after, str) and after.isdigit() and not after.isascii()
    return case.operation.path.endswith("/events") and answer.status_code == 500 and unicode_digit


KNOWN_FINDINGS = (
    Finding(
        "method-not-allowed-is-plain-text",
        "a method a route does not serve (TRACE, PUT /openapi.json, ...) is answered 405 with Starlette's"
        " plain-text body 'Method Not Allowed', not {Code, Message} (api/app.py)",
        _is_method_not_allowed_text,
    ),
    Finding(
        "pull-stream-errors-are-not-code-message",
        "the pull stream answers its 400 and 404 as {\"Error\": \"...\"}, not {Code, Message}"
        " (delivery/pull.py; api/openapi.json documents it as PullError)",
        _is_pull_error_shape,
    ),
    Finding(
        "pull-stream-after-beyond-sqlite-integer",
        "GET /v1/conversations/ID/events?after=3196126739884097929216 (any N >= 2**64) for an existing"
        " conversation answers 500 Internal Server Error: OverflowError, Python int too large to convert"
        " to SQLite INTEGER (delivery/pull.py)",
        _is_pull_after_overflow,
    ),
    Finding(
        "pull-stream-after-unicode-digit",
        "GET /v1/conversations/ID/events?after=%C2%B2 ('²', a digit to str.isdigit but not to int) for an"
        " existing conversation answers 500 Internal Server Error: ValueError (delivery/pull.py)",
        _is_pull_after_unicode_digit,
    ),
)


def known_finding(case: schemathesis.Case, answer: schemathesis.Response) -> Finding | None:
    """The known finding this answer is an instance of, if any."""
    return next((finding for finding in KNOWN_FINDINGS if finding.matches(case, answer)), None)
