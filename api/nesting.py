"""How deep a JSON text nests, found without parsing it, so a body nested thousands of levels is
refused before a decoder recurses into it (msgspec raises RecursionError past about a thousand)."""

from __future__ import annotations

import re

# A string (whose brackets do not count) or a bracket; everything else is skipped.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")


def too_deep_under(data: bytes, limit: int) -> str | None:
    """The top-level key under which `data` nests deeper than `limit` levels (the body itself being level
    1), "" if it does so outside any key; None if it does not. Malformed JSON is left to the decoder."""
    depth = 0
    last_key = ""
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token[0] == ord('"'):
            if depth == 1:
                last_key = token[1:-1].decode("utf-8", "replace")
        elif token[0] in _OPENING:
            depth += 1
            if depth > limit:
                return last_key
        else:
            depth -= 1
    return None
