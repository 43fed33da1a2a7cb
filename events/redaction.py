"""Redaction for every export (replay, events tail, logs): credentials never leave the store.

The only credential the events hold is the participant token (connection
tokens are never stored: recovery makes a fresh connection from the
participant token). A worker's `Secret` is a vault reference (SRN), not a
secret, and is left as it is.
"""

from __future__ import annotations

from typing import TypeVar

from msgspec.structs import replace

from events.conversation_events import ChatStarted
from events.conversation_state import ConversationState

REDACTED = "<redacted>"

T = TypeVar("T")


def redact(event: T) -> T:
    """The event as it may be shown: tokens replaced by "<redacted>"."""
    if isinstance(event, ChatStarted):
        return replace(event, participant_token=REDACTED)  # type: ignore[return-value]
    return event


def redact_state(state: ConversationState) -> ConversationState:
    if state.chat is None:
        return state
    return replace(state, chat=replace(state.chat, participant_token=REDACTED))
