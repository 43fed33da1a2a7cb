"""How events and states leave the store: decoded, redacted, as plain data.

Every export (replay, events tail) goes through here, so a token never
reaches a terminal or a file.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec

from events import ConversationState, decode, decode_worker, redact, redact_state
from store.conversations import STREAM_PREFIX as CONVERSATION_PREFIX
from store.records import StoredEvent


def exported_event(stored: StoredEvent) -> dict[str, Any]:
    """The stored event as plain, redacted data with where and when it was written."""
    decoder = decode if stored.stream.startswith(CONVERSATION_PREFIX) else decode_worker
    return {
        "position": stored.position,
        "stream": stored.stream,
        "seq": stored.seq,
        "recorded_at": timestamp(stored.recorded_at),
        "event": msgspec.to_builtins(redact(decoder(stored.data))),
    }


def exported_state(state: ConversationState) -> dict[str, Any]:
    """The whole conversation state as plain, redacted data."""
    return msgspec.to_builtins(redact_state(state))


def state_summary(state: ConversationState) -> str:
    """One line of what matters when reading a conversation's history."""
    pending = ", ".join(f"{type(event).__name__}@{seq}" for seq, event in sorted(state.pending.items()))
    timers = ", ".join(f"{timer.rule.kind}@{timestamp(timer.due_at)}" for timer in state.armed_timers)
    parts = [
        f"phase={state.phase}",
        f"version={state.version}",
        f"agent={state.last_known_agent or '-'}",
        f"pending=[{pending}]",
        f"timers=[{timers}]",
    ]
    if state.chat is not None:
        parts.append(f"contact={state.chat.contact_id} participant={state.chat.participant_id}")
    if state.end_reason is not None:
        parts.append(f"ended={state.end_reason}")
    return " ".join(parts)


def timestamp(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="milliseconds")
