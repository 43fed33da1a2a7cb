"""The short-link API a worker's ShortLinkConfig (Type Squeeze) names, as the service calls it:

    POST <Config.Api>
    Content-Type: application/json
    x-api-key: <the value of Config.ApiKey>
    {"url": "https://shop.example/orders/42?utm=chat"}

    200 (or any 2xx)
    {"shortUrl": "https://sqz.example/a1B2"}

Each link of a message is asked for once, all of them at once (so a message waits one round trip of
the API, not one per link), each within `SHORTEN_TIMEOUT` seconds. A link whose short form cannot
be had (no key, an error, a slow or odd answer) goes to the user as written: a message is never held
back.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from events.conversation_events import ShortLinkRule
from net import post

log = logging.getLogger(__name__)

SHORTEN_TIMEOUT = 2.0
# At most this many links of one message are asked for at the same time (more wait their turn).
MAX_AT_ONCE = 8

Secret = Callable[[str], str | None]


def shorten_links(rule: ShortLinkRule, links: list[str], secret: Secret) -> dict[str, str]:
    """The short form of each link that could be had, by link."""
    if not links:
        return {}
    key = secret(rule.api_key_ref)
    if key is None:
        log.warning("short links: no value for %s; links go as written", rule.api_key_ref)
        return {}
    if len(links) == 1:
        answers = [_shorten(rule.api, key, links[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(len(links), MAX_AT_ONCE), thread_name_prefix="short-links") as pool:
            answers = list(pool.map(lambda link: _shorten(rule.api, key, link), links))
    return {link: short for link, short in zip(links, answers) if short is not None}


def _shorten(api: str, key: str, link: str) -> str | None:
    body = json.dumps({"url": link}).encode()
    headers = {"Content-Type": "application/json", "x-api-key": key}
    try:
        answer = post(api, body, headers, SHORTEN_TIMEOUT)
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
