"""The adapter's last guard: a message heavier than the configured limit in
UTF-8 bytes is refused before any call, never truncated. Splitting is the
core's decision (`events.long_messages.split_message`, re-exported by this
package).

    >>> refuse_long_message("ж" * 10, limit=10)
    Traceback (most recent call last):
    connect_client.errors.MessageTooLong: SendMessage failed: ...
"""

from __future__ import annotations

from connect_client.errors import MessageTooLong
from events.long_messages import MAX_MESSAGE_BYTES, utf8_size

DEFAULT_MESSAGE_LIMIT = MAX_MESSAGE_BYTES


def refuse_long_message(content: str, limit: int = DEFAULT_MESSAGE_LIMIT) -> str:
    """`content` unchanged if it fits in `limit` UTF-8 bytes, else MessageTooLong."""
    size = utf8_size(content)
    if size > limit:
        raise MessageTooLong(size, limit)
    return content
