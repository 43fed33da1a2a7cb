"""A conversation's stream, folded: the one path that recovery and `run.py replay` share.

    >>> for step in replay(store, "c-1"):
    ...     print(step.stored.seq, step.event, step.state.phase)
    >>> for step in fold("c-1", exported.events()):   # an exported file, no store
    ...     ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from events import ConversationState, decode, evolve, initial_state
from events.conversation_events import ConversationEvent
from store.event_store import EventStore
from store.records import StoredEvent

STREAM_PREFIX = "conversation-"


class ReplayStep(NamedTuple):
    """One event of a conversation and the state right after it."""

    stored: StoredEvent
    event: ConversationEvent
    state: ConversationState


def conversation_stream(conversation_id: str) -> str:
    return STREAM_PREFIX + conversation_id


def fold(conversation_id: str, stored_events: Iterable[StoredEvent]) -> Iterator[ReplayStep]:
    """Decode and fold a conversation's events in order, yielding the state after each: the one fold,
    whether the events come from the store (`replay`) or from an exported file (store/conversation_file.py)."""
    state = initial_state(conversation_id)
    for stored in stored_events:
        event = decode(stored.data)
        state = evolve(state, event)
        yield ReplayStep(stored, event, state)


def replay(store: EventStore, conversation_id: str, *, until_seq: int | None = None) -> Iterator[ReplayStep]:
    """The conversation's events in the store, folded."""
    return fold(conversation_id, store.read_stream(conversation_stream(conversation_id), until_seq=until_seq))


def load_conversation(store: EventStore, conversation_id: str) -> ConversationState:
    """The conversation's state now, as recovery rebuilds it."""
    state = initial_state(conversation_id)
    for step in replay(store, conversation_id):
        state = step.state
    return state


def live_conversations(store: EventStore) -> list[str]:
    """The ids of the conversations that have not ended."""
    return [stream.removeprefix(STREAM_PREFIX) for stream in store.open_streams(STREAM_PREFIX)]


class LiveFold(NamedTuple):
    """Every live conversation's state, and the log's last position taken before they were listed:
    whoever goes on from it reads the log after `position` (a state skips the events it holds)."""

    position: int
    states: dict[str, ConversationState]


def fold_live(store: EventStore) -> LiveFold:
    """Every conversation that has not ended, folded (`load_conversation`)."""
    position = store.last_position()
    return LiveFold(position, {cid: load_conversation(store, cid) for cid in live_conversations(store)})
