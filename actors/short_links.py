"""The short-link API a worker's ShortLinkConfig (Type Squeeze) names, as the service calls it:

    POST <Config.Api>
    Content-Type: application/json
    x-api-key: <the value of Config.ApiKey>
    {"url": "https://shop.example/orders/42?utm=chat"}

    200 (or any 2xx)
    {"shortUrl": "https://sqz.example/a1B2"}

Each link is asked for once per message, within `SHORTEN_TIMEOUT` seconds; a message's links stop
being asked for once `MESSAGE_BUDGET` seconds have gone. A link whose short form cannot be had
(no key, an error, a slow or odd answer) goes to the user as written: a message is never held back.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Callable

from events.conversation_events import ShortLinkRule
from net import post

log = logging.getLogger(__name__)

SHORTEN_TIMEOUT = 2.0
MESSAGE_BUDGET = 3.0

Secret = Callable[[str], str | None]


def shorten_links(rule: ShortLinkRule, links: list[str], secret: Secret, clock: Callable[[], float] = time.monotonic) -> dict[str, str]:
    """The short form of each link that could be had, by link."""
    key = secret(rule.api_key_ref)
    if key is None:
        if links:
            log.warning("short links: no value for %s; links go as written", rule.api_key_ref)
        return {}
    deadline = clock() + MESSAGE_BUDGET
    short: dict[str, str] = {}
    for link in links:
        left = deadline - clock()
        if left <= 0:
            log.warning("short links: %d links left as written, the message's %.0f s are up", len(links) - len(short), MESSAGE_BUDGET)
            break
        found = _shorten(rule.api, key, link, min(SHORTEN_TIMEOUT, left))
        if found is not None:
            short[link] = found
    return short


def _shorten(api: str, key: str, link: str, timeout: float) -> str | None:
    body = json.dumps({"url": link}).encode()
    headers = {"Content-Type": "application/json", "x-api-key": key}
    try:
        answer = post(api, body, headers, timeout)
    except (OSError, ValueError, UnicodeError, http.client.HTTPException) as error:
        log.warning("short links: the API did not answer (%s); a link goes as written", type(error).__name__)
        return None
    if not 200 <= answer.status < 300:
        log.warning("short links: the API answered HTTP %d; a link goes as written", answer.status)
        return None
    try:
        short = json.loads(answer.body).get("shortUrl")
    except (ValueError, AttributeError):
        short = None
    if not isinstance(short, str) or not short.startswith(("https://", "http://")) or any(c.isspace() for c in short):
        log.warning("short links: the API's answer has no usable shortUrl; a link goes as written")
        return None
    return short
