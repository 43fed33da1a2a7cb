"""How events and states leave the store: decoded, redacted, as plain data.

Every export (replay, events tail) goes through here, so a token never
reaches a terminal or a file.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import msgspec

from connectors.stream import decode_connector_event
from events import ConversationState, EventDecodeError, decode, decode_worker, redact, redact_state
from events.codec import decode_content
from events.seen_ids import SeenIds
from store.connectors import STREAM_PREFIX as CONNECTOR_PREFIX
from store.content import STREAM_PREFIX as CONTENT_PREFIX
from store.conversations import STREAM_PREFIX as CONVERSATION_PREFIX
from store.records import StoredEvent
from store.workers import STREAM_PREFIX as WORKER_PREFIX

# Each kind of stream in the store and how its events are read.
_DECODERS: dict[str, Callable[[bytes], Any]] = {
    CONVERSATION_PREFIX: decode,
    WORKER_PREFIX: decode_worker,
    CONNECTOR_PREFIX: decode_connector_event,
    CONTENT_PREFIX: decode_content,
}


def exported_event(stored: StoredEvent) -> dict[str, Any]:
    """The stored event as plain, redacted data with where and when it was written."""
    decoder = next((d for prefix, d in _DECODERS.items() if stored.stream.startswith(prefix)), None)
    if decoder is None:
        raise EventDecodeError(f"stream {stored.stream!r} is of no kind this version knows")
    return {
        "position": stored.position,
        "stream": stored.stream,
        "seq": stored.seq,
        "recorded_at": timestamp(stored.recorded_at),
        "event": msgspec.to_builtins(redact(decoder(stored.data))),
    }


def exported_state(state: ConversationState) -> dict[str, Any]:
    """The whole conversation state as plain, redacted data (the seen ids as a sorted list of ids:
    they are kept packed, events/seen_ids.py)."""
    return msgspec.to_builtins(redact_state(state), enc_hook=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, SeenIds):
        return sorted(value)
    raise NotImplementedError(f"{type(value).__name__} has no plain form")


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
