"""What a bot's `Context` may hold: what Amazon Connect takes as a contact's attributes.

Connect's limits (StartChatContact and UpdateContactAttributes, `Attributes`):
up to 32,768 UTF-8 bytes across all keys and values of a contact; keys of 1
to 32,767 characters, only letters, digits, dash and underscore. A value that
is not a string counts as its JSON text. A context that breaks them is refused
when it arrives, rather than accepted here and refused (or routed to the flow's
error branch) at Connect later.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

MAX_ATTRIBUTES_BYTES = 32_768
MAX_KEY_LENGTH = 32_767
MAX_DEPTH = 32
_KEY = re.compile(r"[A-Za-z0-9_-]+")


def context_problems(context: dict[str, Any], path: str = "$.Context") -> list[str]:
    problems = []
    bad_keys = [key for key in context if not _KEY.fullmatch(key) or len(key) > MAX_KEY_LENGTH]
    if bad_keys:
        shown = ", ".join(repr(key[:40]) for key in bad_keys[:5])
        problems.append(
            f"{path}: keys must be 1 to {MAX_KEY_LENGTH:,} letters, digits, - or _ (Amazon Connect's "
            f"contact attribute names), not {shown}"
        )
    size = sum(len(key.encode()) + len(_text(value)) for key, value in context.items())
    if size > MAX_ATTRIBUTES_BYTES:
        problems.append(
            f"{path}: {size:,} bytes of keys and values, over Amazon Connect's {MAX_ATTRIBUTES_BYTES:,} "
            "for a contact's attributes"
        )
    return problems


def _text(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else msgspec.json.encode(value)
