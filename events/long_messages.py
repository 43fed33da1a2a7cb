"""Messages longer than Connect takes are cut into ordered pieces, never truncated.

The limit is counted in UTF-8 bytes, as Amazon Connect counts SendMessage's
`Content` ("Maximum of 16,384 bytes for all content types"): 16,384 Latin
letters fit in one message, but only about 8,000 Cyrillic or 5,400 Chinese
characters. A piece always ends between two characters, never inside one.

    >>> split_message("First paragraph.\\n\\nSecond one.", limit=20)
    ['First paragraph.\\n\\n', 'Second one.']
"""

from __future__ import annotations

import re
import unicodedata

# Amazon Connect's bound on SendMessage Content, in UTF-8 bytes, for every content type.
MAX_MESSAGE_BYTES = 16_384
# The longest UTF-8 encoding of one character: no limit may be smaller.
MIN_LIMIT = 4

# Coarsest first: a paragraph break, a line break, the end of a sentence,
# any whitespace. Each boundary stays with the piece before it.
_BOUNDARIES = (
    re.compile(r"\n\s*\n\s*"),
    re.compile(r"\n"),
    re.compile(r"[.!?…。！？][\"')\]]*\s+"),
    re.compile(r"\s+"),
)


def utf8_size(text: str) -> int:
    """What `text` weighs at Connect: its length in UTF-8 bytes."""
    return len(text.encode("utf-8"))


def split_message(content: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """`content` in pieces of at most `limit` UTF-8 bytes that, joined, give it
    back exactly (whitespace included), to be sent in this order.

    A piece ends at the last paragraph break that keeps it at least half as
    long as the most that fits; failing that at a line break, then after a
    sentence's end, then at any whitespace; when none of these lies in the
    second half, at the latest boundary of any sort; a word longer than the
    limit is cut between two characters, and not between a character and the
    combining marks that follow it unless they alone outweigh the limit. An
    empty message gives no pieces."""
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT} bytes (one UTF-8 character), got {limit}")
    pieces: list[str] = []
    rest = content
    while utf8_size(rest) > limit:
        cut = _cut(rest, _fitting(rest, limit))
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def _fitting(text: str, limit: int) -> str:
    """The longest prefix of whole characters of `text` that takes at most `limit` bytes."""
    # Cutting the bytes may split the last character; "ignore" drops that part, and only it.
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _cut(text: str, window: str) -> int:
    """Where the first piece of `text` ends, within `window`, the most of it that fits."""
    latest = 0
    for boundary in _BOUNDARIES:
        ends = [match.end() for match in boundary.finditer(window)]
        if ends and ends[-1] >= len(window) // 2:
            return ends[-1]
        latest = max([latest, *ends])
    return latest or _hard_cut(text, len(window))


def _hard_cut(text: str, cut: int) -> int:
    """`cut`, moved back so that no combining mark is parted from its character (but at least one character)."""
    while cut > 1 and unicodedata.combining(text[cut]):
        cut -= 1
    return cut
