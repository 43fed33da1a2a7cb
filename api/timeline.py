"""A conversation's timeline for the operator: its events folded as `run.py replay` folds them
(`store.conversations.replay`, the code recovery uses), each shown redacted (`events.redact`), so the
operator page shows what the service would rebuild and never a token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import msgspec

from api.bodies import ArmedTimer, PendingEffect, TimelineEvent
from events import ConversationState, initial_state, redact
from store.conversations import replay
from store.event_store import EventStore


class Folded(NamedTuple):
    events: list[TimelineEvent]
    state: ConversationState


def fold_timeline(store: EventStore, conversation_id: str) -> Folded:
    """Every event of the conversation, each with the phase right after it, and the state they fold to."""
    events, state = [], initial_state(conversation_id)
    for step in replay(store, conversation_id):
        fields = msgspec.to_builtins(redact(step.event))
        kind = fields.pop("type")
        events.append(
            TimelineEvent(
                seq=step.stored.seq,
                recorded_at=_utc(step.stored.recorded_at),
                type=kind,
                event=fields,
                phase=step.state.phase,
            )
        )
        state = step.state
    return Folded(events, state)


def pending_effects_of(state: ConversationState) -> list[PendingEffect]:
    return [PendingEffect(seq=seq, type=type(intent).__name__) for seq, intent in sorted(state.pending.items())]


def armed_timers_of(state: ConversationState) -> list[ArmedTimer]:
    return [ArmedTimer(kind=timer.rule.kind, due_at=_utc(timer.due_at)) for timer in state.armed_timers]


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
