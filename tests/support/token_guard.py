"""The whole suite's last check: no log line carries a token.

Every record logged in the test process, and every `service.log` a test's `run.py` child wrote under
pytest's temporary folder, is searched for what a credential looks like here: the local Amazon
Connect's participant and connection tokens and the API clients' tokens (`secrets.token_urlsafe`: 43
or 64 URL-safe characters, with at least one that no hexadecimal digest or id has), `whsec_` signing
secrets, and `Bearer` followed by a value. A session with any is failed, each line named (see the
hooks in tests/conftest.py).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

# A urlsafe token of 32 or 48 bytes stands alone (43 or 64 characters) and has a letter past f, an
# underscore or a dash somewhere in it, which a SHA-256 in hex never has; UUIDs are 36 with dashes.
_URLSAFE = re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[g-zG-Z_])[A-Za-z0-9_-]{43}(?:[A-Za-z0-9_-]{21})?(?![A-Za-z0-9_-])")
_SHAPES = (_URLSAFE, re.compile(r"whsec_[A-Za-z0-9+/=_-]{8,}"), re.compile(r"(?i)\bbearer\s+(?!<redacted>)[A-Za-z0-9._~+/=-]{8,}"))


def token_in(line: str) -> str | None:
    """The first credential-shaped text in `line`, if any."""
    for shape in _SHAPES:
        found = shape.search(line)
        if found:
            return found.group(0)
    return None


class TokenGuard(logging.Handler):
    """Keeps every in-process log line that carries a token, with the test that logged it."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.test = "(no test)"
        self.skipping = False  # a test that logs credentials on purpose (marked plants_tokens)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if self.skipping:
            return
        text = record.getMessage() + ("\n" + self.format_exception(record) if record.exc_info else "")
        token = token_in(text)
        if token is not None:
            self.found.append(f"{self.test}: {record.name}: {text[:300]!r}")

    def format_exception(self, record: logging.LogRecord) -> str:
        return logging.Formatter().formatException(record.exc_info) if record.exc_info else ""


def tokens_in_service_logs(folder: Path, name: str = "service.log") -> list[str]:
    """Each line of a log file called `name` below `folder` that carries a token."""
    found = []
    for log in sorted(folder.rglob(name)):
        for number, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
            if token_in(line) is not None:
                found.append(f"{log}:{number}: {line[:300]!r}")
    return found
