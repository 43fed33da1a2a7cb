"""The adapter's last guard: a message longer than the configured limit is
refused before any call, never truncated. Splitting is the core's decision
(`events.long_messages.split_message`, re-exported by this package).

    >>> refuse_long_message("x" * 20, limit=10)
    Traceback (most recent call last):
    connect_client.errors.MessageTooLong: SendMessage failed: ...
"""

from __future__ import annotations

from connect_client.errors import MessageTooLong
from events.long_messages import MAX_MESSAGE_LENGTH

DEFAULT_MESSAGE_LIMIT = MAX_MESSAGE_LENGTH


def refuse_long_message(content: str, limit: int = DEFAULT_MESSAGE_LIMIT) -> str:
    """`content` unchanged if it fits, else MessageTooLong."""
    if len(content) > limit:
        raise MessageTooLong(len(content), limit)
    return content
