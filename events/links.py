"""Links in a message, pure: which to shorten, and the text with their short forms.

A link is an http:// or https:// URL up to the next white space, without the punctuation a sentence
puts after it ("see https://x.example/a." ends at "a"; a closing bracket is kept only when the URL
opened one).
"""

from __future__ import annotations

import re

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?'\""
_PAIRS = {")": "(", "]": "[", "}": "{"}


def find_links(text: str) -> list[str]:
    """The distinct links of `text`, in order of first appearance."""
    return list(dict.fromkeys(_trimmed(match[0]) for match in _URL.finditer(text)))


def with_short_links(text: str, short: dict[str, str]) -> str:
    """`text` with each link that `short` maps replaced by its short form (others as they are)."""

    def replaced(match: re.Match[str]) -> str:
        link = _trimmed(match[0])
        return short.get(link, link) + match[0][len(link):]

    return _URL.sub(replaced, text)


def _trimmed(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _PAIRS and url.count(_PAIRS[last]) < url.count(last)):
            url = url[:-1]
            continue
        return url
    return url
