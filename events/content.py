"""A worker's content items, the texts its `content` slash-command actions send: a stream
`content-<worker id>` of these events, folded into the items by key.

An item's text may hold `{{Name}}` placeholders, filled from the conversation's context when a
command sends it (`events/slash_commands.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Union

import msgspec

# A content key as a worker file names it in an action's `value`.
ContentKey = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{1,128}(?![\s\S])")]
# Content reaches the user through the bot, not Connect: a bound for one chat message, not Connect's.
MAX_CONTENT_BYTES = 65_536


class ContentEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=True):
    """Base of every content event; the tag is the class name, never rename one."""

    v: int = 1
    at: float


class ContentPut(ContentEvent):
    key: str
    text: str


class ContentDeleted(ContentEvent):
    key: str


AnyContentEvent = Union[ContentPut, ContentDeleted]


def content_items(events: Iterable[ContentEvent]) -> dict[str, str]:
    """The items as the events leave them, by key."""
    items: dict[str, str] = {}
    for event in events:
        if isinstance(event, ContentPut):
            items[event.key] = event.text
        elif isinstance(event, ContentDeleted):
            items.pop(event.key, None)
    return items
