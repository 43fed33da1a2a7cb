"""Messages longer than Connect takes are cut into ordered pieces, never truncated.

The limit is counted in characters (code points), as botocore's model and
the local Amazon Connect count SendMessage's `Content`. Where a deployment's
limit is in bytes, use a limit low enough for the text's encoding.

    >>> split_message("First paragraph.\\n\\nSecond one.", limit=20)
    ['First paragraph.\\n\\n', 'Second one.']
"""

from __future__ import annotations

import re
import unicodedata

# botocore's bound on SendMessage Content (1..16384).
MAX_MESSAGE_LENGTH = 16_384

# Coarsest first: a paragraph break, a line break, the end of a sentence,
# any whitespace. Each boundary stays with the piece before it.
_BOUNDARIES = (
    re.compile(r"\n\s*\n\s*"),
    re.compile(r"\n"),
    re.compile(r"[.!?…。！？][\"')\]]*\s+"),
    re.compile(r"\s+"),
)


def split_message(content: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """`content` in pieces of at most `limit` characters that, joined, give it
    back exactly (whitespace included), to be sent in this order.

    A piece ends at the last paragraph break that keeps it at least half the
    limit long; failing that at a line break, then after a sentence's end,
    then at any whitespace; when none of these lies in the second half, at
    the latest boundary of any sort; a word longer than the limit is cut, but never
    between a character and the combining marks that follow it. An empty
    message gives no pieces."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    pieces: list[str] = []
    rest = content
    while len(rest) > limit:
        cut = _cut(rest, limit)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def _cut(text: str, limit: int) -> int:
    """Where the first piece of `text` (longer than `limit`) ends."""
    window = text[:limit]
    latest = 0
    for boundary in _BOUNDARIES:
        ends = [match.end() for match in boundary.finditer(window)]
        if ends and ends[-1] >= limit // 2:
            return ends[-1]
        latest = max([latest, *ends])
    return latest or _hard_cut(text, limit)


def _hard_cut(text: str, limit: int) -> int:
    cut = limit
    while cut > 1 and unicodedata.combining(text[cut]):
        cut -= 1
    return cut
