"""Upgraders: each turns the body of an event type at one schema version into the next version.

Keyed by (tag, version it upgrades from). A field added with a default needs no
upgrader (old bodies decode as they are); a renamed or reshaped field does.
Upgraders work on the decoded JSON object, before it becomes a Struct.
"""

from __future__ import annotations

from typing import Any, Callable

Body = dict[str, Any]


def _agent_message_received_v1(body: Body) -> Body:
    """v1 called the message body `text`; v2 calls it `content`, as Connect does."""
    upgraded = {key: value for key, value in body.items() if key != "text"}
    upgraded["content"] = body.get("text")
    upgraded["v"] = 2
    return upgraded


UPGRADES: dict[tuple[str, int], Callable[[Body], Body]] = {
    ("AgentMessageReceived", 1): _agent_message_received_v1,
}
