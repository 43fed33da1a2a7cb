"""Properties over random command sequences, legal and illegal mixed."""

from __future__ import annotations

from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from events import Rejected, armed_timers, decide, decode, encode, evolve, initial_state, pending_effects
from events.commands import (
    ChatEndedReceived,
    ChatFailed,
    ChatStartFailure,
    ChatStartSucceeded,
    Command,
    ConnectionEstablished,
    ConnectMessageReceived,
    ContextChanged,
    ContextUpdateAcknowledged,
    DisconnectAcknowledged,
    ParticipantJoinedReceived,
    ParticipantLeftReceived,
    SwitchRegion,
    TimerDue,
    TypingAcknowledged,
    TypingEventReceived,
    UserLeaves,
    UserMessageAcknowledged,
    UserMessageRefused,
    UserMessageTooLong,
    UserSays,
    UserTyping,
)
from events.conversation_decide import MAX_MESSAGE_PIECES
from events.conversation_events import ConversationEvent, ErrorDetail, ReturnedToBot, UserMessageRequested
from events.conversation_state import ConversationState
from events.effects import DisconnectParticipant, SendMessage, SendTyping, StartChat, UpdateContactAttributes
from events.long_messages import MAX_MESSAGE_BYTES, utf8_size
from tests.events.scenario import FAILOVER, PRIMARY, transfer

ROLES = st.sampled_from(["AGENT", "CUSTOMER", "SYSTEM", "CUSTOM_BOT", "SUPERVISOR"])
NAMES = st.sampled_from(["Ana", "Raj", "SYSTEM_MESSAGE"])
MESSAGE_IDS = st.sampled_from([f"cm-{n}" for n in range(8)])  # a small pool, so repeats happen
TEXT = st.text(max_size=12)
# Over Connect's limit: split into pieces, or refused when too many pieces are needed.
LONG_TEXT = st.builds(
    lambda unit, size: (unit * size)[:size],
    st.sampled_from(["x", "word ", "A sentence. ", "a line\n", "para\n\n"]),
    st.sampled_from([MAX_MESSAGE_BYTES + 1, 40_000, MAX_MESSAGE_PIECES * MAX_MESSAGE_BYTES + 1]),
)
USER_TEXT = st.one_of(TEXT, TEXT, TEXT, LONG_TEXT)


def effect_id(data: st.DataObject, state: ConversationState) -> int:
    """Mostly an intent that is pending, sometimes any sequence number (a stale or bogus report)."""
    known = sorted(state.pending) or [1]
    return data.draw(st.one_of(st.sampled_from(known), st.integers(0, 40)))


def command(data: st.DataObject, state: ConversationState, at: float) -> Command:
    kind = data.draw(st.integers(0, 43))
    if kind > 21:  # weigh the commands of a live chat over those that end it, to reach deep states
        kind = data.draw(st.sampled_from([1, 6, 9, 12, 13, 14, 18, 21]))
    if kind == 0:
        return transfer(at, user_name=data.draw(st.one_of(st.none(), TEXT)))
    if kind == 1:
        return UserSays(at=at, bot_message_id=data.draw(st.sampled_from(["b-1", "b-2", "b-3", "b-4"])), text=data.draw(USER_TEXT))
    if kind == 2:
        return UserTyping(at=at)
    if kind == 3:
        return UserLeaves(at=at)
    if kind == 4:
        return ContextChanged(at=at, context=data.draw(st.dictionaries(st.sampled_from(["a", "b"]), TEXT, max_size=2)))
    if kind == 5:
        return SwitchRegion(at=at, target=data.draw(st.sampled_from([PRIMARY, FAILOVER])))
    if kind in (6, 7):
        return ChatStartSucceeded(at=at, effect_id=effect_id(data, state), contact_id="c-1", participant_id="p-1", participant_token="tok")
    if kind == 8:
        return ChatStartFailure(at=at, effect_id=effect_id(data, state), error=ErrorDetail(code="LimitExceededException", message="too many chats"))
    if kind in (9, 10):
        return ConnectionEstablished(at=at, connection_token=f"conn-{kind}", renewed=data.draw(st.booleans()))
    if kind == 11:
        return ChatFailed(at=at, error=ErrorDetail(code="ChatSocketGaveUp", message="gone"))
    if kind in (12, 13):
        return ConnectMessageReceived(at=at, message_id=data.draw(MESSAGE_IDS), role=data.draw(ROLES), display_name=data.draw(NAMES), content=data.draw(TEXT))
    if kind == 14:
        return ParticipantJoinedReceived(at=at, message_id=data.draw(MESSAGE_IDS), role=data.draw(ROLES), display_name=data.draw(NAMES))
    if kind == 15:
        return ParticipantLeftReceived(at=at, message_id=data.draw(MESSAGE_IDS), role=data.draw(ROLES), display_name=data.draw(NAMES))
    if kind == 16:
        return TypingEventReceived(at=at, role=data.draw(ROLES), display_name=data.draw(NAMES))
    if kind == 17:
        return ChatEndedReceived(at=at, message_id=data.draw(MESSAGE_IDS))
    if kind == 18:
        return data.draw(
            st.sampled_from(
                [
                    UserMessageAcknowledged(at=at, effect_id=effect_id(data, state), connect_message_id="cm-sent"),
                    UserMessageRefused(at=at, effect_id=effect_id(data, state), error=ErrorDetail(code="ValidationException", message="no")),
                    UserMessageTooLong(at=at, effect_id=effect_id(data, state), error=ErrorDetail(code="ValidationException", message="length")),
                ]
            )
        )
    if kind == 19:
        return data.draw(
            st.sampled_from(
                [
                    TypingAcknowledged(at=at, effect_id=effect_id(data, state)),
                    ContextUpdateAcknowledged(at=at, effect_id=effect_id(data, state)),
                    ContextUpdateAcknowledged(
                        at=at, effect_id=effect_id(data, state), error=ErrorDetail(code="InvalidParameterException", message="no")
                    ),
                ]
            )
        )
    if kind == 20:
        return DisconnectAcknowledged(at=at, effect_id=effect_id(data, state))
    timers = [timer.timer_id for timer in armed_timers(state)] or ["conv-p/timer/1"]
    return TimerDue(at=at, timer_id=data.draw(st.one_of(st.sampled_from(timers), st.just("conv-p/timer/99"))))


def live_run(data: st.DataObject) -> tuple[ConversationState, list[ConversationEvent]]:
    state = initial_state("conv-p")
    events: list[ConversationEvent] = []
    if data.draw(st.booleans()):  # most runs start transferred, so they get somewhere
        events = decide(state, transfer(0.0))
        state = reduce(evolve, events, state)
    at = 0.0
    for _ in range(data.draw(st.integers(0, 60))):
        at += data.draw(st.floats(0, 30, allow_nan=False))
        before = state
        try:
            new = decide(state, command(data, state, at))
        except Rejected as rejection:
            assert rejection.code and rejection.message
            assert state is before
            continue
        state = reduce(evolve, new, state)
        events.extend(new)
    return state, events


def legal_command(data: st.DataObject, state: ConversationState, at: float, step: int) -> Command:
    """A command the shell could really send now: reports of pending effects, due timers, fresh frames."""
    choices: list[Command] = []
    for effect in pending_effects(state):
        if isinstance(effect, StartChat):
            choices.append(ChatStartSucceeded(at=at, effect_id=effect.effect_id, contact_id="c-1", participant_id="p-1", participant_token="tok"))
        elif isinstance(effect, SendMessage):
            choices.append(UserMessageAcknowledged(at=at, effect_id=effect.effect_id, connect_message_id=f"sent-{step}"))
        elif isinstance(effect, SendTyping):
            choices.append(TypingAcknowledged(at=at, effect_id=effect.effect_id))
        elif isinstance(effect, UpdateContactAttributes):
            choices.append(ContextUpdateAcknowledged(at=at, effect_id=effect.effect_id))
        elif isinstance(effect, DisconnectParticipant):
            choices.append(DisconnectAcknowledged(at=at, effect_id=effect.effect_id))
    choices += [TimerDue(at=max(at, timer.due_at), timer_id=timer.timer_id) for timer in armed_timers(state)]
    if state.phase == "started":
        choices.append(ConnectionEstablished(at=at, connection_token=f"conn-{step}"))
    if state.phase == "connected":
        name = data.draw(NAMES)
        choices += [
            ParticipantJoinedReceived(at=at, message_id=f"join-{step}", role="AGENT", display_name=name),
            ConnectMessageReceived(at=at, message_id=f"cm-{step}", role="AGENT", display_name=name, content="hi"),
            ConnectMessageReceived(at=at, message_id=f"cm-{step}", role="SYSTEM", display_name="SYSTEM_MESSAGE", content="wait"),
            TypingEventReceived(at=at, role="AGENT", display_name=name),
            UserTyping(at=at),
        ]
    if state.phase in ("starting", "started", "connected") and not state.disconnect_requested:
        choices += [
            UserSays(at=at, bot_message_id=f"b-{step}", text="hello"),
            UserSays(at=at, bot_message_id=f"b-{step}", text="word " * 8_000),  # three pieces
            ContextChanged(at=at, context={"step": str(step)}),
        ]
    rare: list[Command] = [UserLeaves(at=at), ChatFailed(at=at, error=ErrorDetail(code="ChatSocketGaveUp", message="gone"))]
    if state.chat is not None:
        rare.append(ChatEndedReceived(at=at, message_id=f"end-{step}"))
    if choices and data.draw(st.integers(0, 15)):  # an ending one time in sixteen
        return data.draw(st.sampled_from(choices))
    return data.draw(st.sampled_from(rare))


def legal_run(data: st.DataObject) -> tuple[ConversationState, list[ConversationEvent]]:
    events = decide(initial_state("conv-p"), transfer(0.0))
    state = reduce(evolve, events, initial_state("conv-p"))
    at = 0.0
    for step in range(data.draw(st.integers(0, 80))):
        if state.phase == "returned":
            break
        at += data.draw(st.floats(0, 15, allow_nan=False))
        command_now = legal_command(data, state, at, step)
        try:
            new = decide(state, command_now)
        except Rejected as rejection:
            raise AssertionError(f"a legal command was rejected: {command_now!r}") from rejection
        state = reduce(evolve, new, state)
        events.extend(new)
    return state, events


RUNS = st.sampled_from([live_run, legal_run])


@settings(max_examples=150, deadline=None)
@given(RUNS, st.data())
def test_replaying_the_encoded_events_rebuilds_the_live_state(run, data: st.DataObject) -> None:
    live, events = run(data)
    stored = [encode(event) for event in events]
    rebuilt = reduce(evolve, map(decode, stored), initial_state("conv-p"))
    assert rebuilt == live
    assert live.version == len(events)


@settings(max_examples=60, deadline=None)
@given(RUNS, st.data())
def test_every_event_round_trips_through_the_codec(run, data: st.DataObject) -> None:
    _, events = run(data)
    for event in events:
        assert decode(encode(event)) == event


@settings(max_examples=60, deadline=None)
@given(RUNS, st.data())
def test_a_conversation_ends_with_exactly_one_handback_and_nothing_left_to_do(run, data: st.DataObject) -> None:
    live, events = run(data)
    handbacks = [index for index, event in enumerate(events) if isinstance(event, ReturnedToBot)]
    assert len(handbacks) <= 1
    if handbacks:
        assert handbacks[0] == len(events) - 1
        assert live.phase == "returned"
        assert pending_effects(live) == [] and armed_timers(live) == []


@settings(max_examples=60, deadline=None)
@given(RUNS, st.data())
def test_every_message_for_connect_fits_and_every_intent_has_its_own_client_token(run, data: st.DataObject) -> None:
    _, events = run(data)
    assert all(0 < utf8_size(event.text) <= MAX_MESSAGE_BYTES for event in events if isinstance(event, UserMessageRequested))
    tokens = [token for event in events if (token := getattr(event, "client_token", None)) is not None]
    assert len(tokens) == len(set(tokens))
