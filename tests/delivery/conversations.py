"""Conversations driven through the pure core (as the actor shell does) and appended to a real store."""

from __future__ import annotations

from msgspec.structs import replace

from events import encode, event_type, pending_effects
from events.commands import (
    ChatEndedReceived,
    ChatStartSucceeded,
    ConnectionEstablished,
    ParticipantLeftReceived,
    TimerDue,
    TypingEventReceived,
)
from events.conversation_events import ConversationEvent, TimerArmed
from events.effects import StartChat
from store import EventStore, NewEvent
from store.conversations import conversation_stream
from tests.events.scenario import TOKEN, Run, transfer


def started(conversation_id: str, deliver_to: str, client_id: str | None = None) -> Run:
    """Transferred by API client `client_id` to a worker that delivers to `deliver_to`, chat started (with a
    participant token), connected."""
    run = Run(conversation_id)
    run(replace(transfer(0.0, context={"FirstName": "Bo", "Plan": "gold"}), deliver_to=deliver_to, client_id=client_id))
    start = pending_effects(run.state)[0]
    assert isinstance(start, StartChat)
    run(ChatStartSucceeded(at=1.0, effect_id=start.effect_id, contact_id=f"contact-{conversation_id}",
                           participant_id=f"participant-{conversation_id}", participant_token=TOKEN))
    run(ConnectionEstablished(at=1.0, connection_token="connection-token"))
    return run


def chat(run: Run, agent_messages: int) -> Run:
    """An agent joins, types, says `agent_messages` things, the user is warned of inactivity."""
    run.with_agent("Ana", at=2.0)
    run(TypingEventReceived(at=2.5, role="AGENT", display_name="Ana"))
    for n in range(agent_messages):
        run.agent_says(f"message {n} for {run.state.conversation_id}", at=3.0 + n, message_id=f"m-{n}")
    warning = next(event for event in reversed(run.events) if isinstance(event, TimerArmed) and event.rule.kind == "WARNING")
    run(TimerDue(at=warning.due_at, timer_id=warning.timer_id))
    return run


def hand_back(run: Run) -> Run:
    """The agent leaves and the chat ends: AgentLeft, then ReturnedToBot."""
    at = run.events[-1].at + 1
    run(ParticipantLeftReceived(at=at, message_id="left-Ana", role="AGENT", display_name="Ana"))
    run(ChatEndedReceived(at=at + 1, message_id="ended"))
    return run


def whole(conversation_id: str, deliver_to: str, agent_messages: int = 3, client_id: str | None = None,
          ) -> list[ConversationEvent]:
    return hand_back(chat(started(conversation_id, deliver_to, client_id), agent_messages)).events


def append(store: EventStore, conversation_id: str, events: list[ConversationEvent]) -> None:
    """Append after whatever the stream holds, in one batch."""
    stream = conversation_stream(conversation_id)
    store.append(stream, [NewEvent(event_type(event), encode(event)) for event in events], store.stream_version(stream))


def append_one_by_one(store: EventStore, conversations: dict[str, list[ConversationEvent]]) -> None:
    """Interleave the conversations' events in the global log, one append each."""
    longest = max(len(events) for events in conversations.values())
    for index in range(longest):
        for conversation_id, events in conversations.items():
            if index < len(events):
                append(store, conversation_id, [events[index]])
