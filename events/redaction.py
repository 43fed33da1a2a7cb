"""Redaction for every export (replay, events tail, logs): credentials never leave the store.

The events hold two kinds of credential: the participant token (`ChatStarted`, and with the
connection token `ChatLeaveRequested`, the chat a failover move leaves) and the connection
token of each connection (`ConnectionTokenKept`, `ConnectionOpened`, `ConnectionRenewed`), kept so that a chat that ended
while the service was down can still be read after a restart. A worker's `Secret` is a vault
reference (SRN), not a secret, and is left as it is.
"""

from __future__ import annotations

from typing import TypeVar

from msgspec.structs import replace

from events.conversation_events import (
    ChatLeaveRequested,
    ChatStarted,
    ConnectionOpened,
    ConnectionRenewed,
    ConnectionTokenKept,
)
from events.conversation_state import ConversationState

REDACTED = "<redacted>"

T = TypeVar("T")


def redact(event: T) -> T:
    """The event as it may be shown: tokens replaced by "<redacted>"."""
    if isinstance(event, ChatStarted):
        return replace(event, participant_token=REDACTED)  # type: ignore[return-value]
    if isinstance(event, (ConnectionOpened, ConnectionRenewed, ConnectionTokenKept)) and event.connection_token is not None:
        return replace(event, connection_token=REDACTED)  # type: ignore[return-value]
    if isinstance(event, ChatLeaveRequested):
        token = None if event.connection_token is None else REDACTED
        return replace(event, participant_token=REDACTED, connection_token=token)  # type: ignore[return-value]
    return event


def redact_state(state: ConversationState) -> ConversationState:
    """The state as it may be shown: its chat's tokens, and those of a pending leave of the chat a
    failover move left behind, replaced by "<redacted>"."""
    pending = {seq: redact(event) for seq, event in state.pending.items()}
    if state.chat is None:
        return replace(state, pending=pending)
    token = None if state.chat.connection_token is None else REDACTED
    return replace(state, pending=pending, chat=replace(state.chat, participant_token=REDACTED, connection_token=token))
