"""One outbound HTTP POST: no proxy from the environment, no redirect followed, a timeout.

Every status is an answer (`HttpAnswer`), 4xx and 5xx included: what it means is the caller's
business. What prevents an answer raises: `ValueError` (or `http.client.InvalidURL`) for a request
that cannot be made of the URL and headers, `UnicodeError` for a host name IDNA cannot encode, and
`OSError` or `http.client.HTTPException` for the network (refused, reset, timed out).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other 3xx: following it would turn the POST into a GET."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpAnswer:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpAnswer(response.status, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpAnswer(error.code, error.read())
