"""One GET to the service, as a probe or a scraper makes it: the status, the headers and the body, whatever
the status."""

from __future__ import annotations

import urllib.error
import urllib.request
from email.message import Message


def get(url: str, token: str | None = None) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
