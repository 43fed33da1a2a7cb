"""Auto-disconnect timers: armed after each agent message, fired by TimerDue, stale wake-ups ignored."""

from __future__ import annotations

from functools import reduce

from events import armed_timers, evolve, initial_state, pending_effects
from events.commands import ChatEndedReceived, DisconnectAcknowledged, TimerDue, UserSays
from events.conversation_events import (
    AutoDisconnectRule,
    ChatEnded,
    DisconnectRequested,
    ReturnedToBot,
    TimerArmed,
    TimerCancelled,
    TimerFired,
    UserMessageRequested,
    UserNotified,
)
from events.effects import DisconnectParticipant, SendMessage
from tests.events.scenario import DISCONNECT, WARNING, Run, of_type


def test_warning_fires_ten_seconds_after_last_agent_message() -> None:
    run = Run().connected().with_agent()
    events = run.agent_says("How can I help?", at=100.0)
    warning = next(timer for timer in of_type(events, TimerArmed) if timer.rule == WARNING)
    assert warning.due_at == 110.0
    fired = run(TimerDue(at=110.0, timer_id=warning.timer_id))
    assert [type(event) for event in fired] == [TimerFired, UserNotified, UserMessageRequested]
    assert fired[1].text == "Still there?"
    assert fired[2].text == "User is quiet" and fired[2].origin == "auto-disconnect"
    assert [timer.rule for timer in armed_timers(run.state)] == [DISCONNECT]


def test_each_agent_message_rearms_the_timers_and_cancels_the_previous_ones() -> None:
    run = Run().connected().with_agent()
    first = of_type(run.agent_says("one", at=100.0), TimerArmed)
    second = run.agent_says("two", at=105.0)
    assert {event.timer_id for event in of_type(second, TimerCancelled)} == {timer.timer_id for timer in first}
    assert sorted(timer.due_at for timer in armed_timers(run.state)) == [115.0, 125.0]


def test_timer_ids_are_unique_per_conversation_and_derived_from_the_stream() -> None:
    run = Run("conv-9").connected().with_agent()
    armed = of_type(run.agent_says("one", at=100.0), TimerArmed)
    assert [timer.timer_id for timer in armed] == [f"conv-9/timer/{run.state.version - 1}", f"conv-9/timer/{run.state.version}"]


def test_cancelled_timer_coming_due_is_ignored() -> None:
    run = Run().connected().with_agent()
    old = of_type(run.agent_says("one", at=100.0), TimerArmed)[0]
    run.agent_says("two", at=105.0)
    assert run(TimerDue(at=110.0, timer_id=old.timer_id)) == []


def test_timer_coming_due_twice_fires_once() -> None:
    run = Run().connected().with_agent()
    warning = of_type(run.agent_says("one", at=100.0), TimerArmed)[0]
    assert run(TimerDue(at=110.0, timer_id=warning.timer_id))
    assert run(TimerDue(at=111.0, timer_id=warning.timer_id)) == []


def test_user_answering_cancels_the_timers() -> None:
    run = Run().connected().with_agent()
    run.agent_says("one", at=100.0)
    events = run(UserSays(at=103.0, bot_message_id="b-1", text="I am here"))
    assert len(of_type(events, TimerCancelled)) == 2
    assert armed_timers(run.state) == []


def test_disconnect_rule_messages_both_sides_then_ends_the_chat_as_user_left() -> None:
    run = Run().connected().with_agent()
    armed = of_type(run.agent_says("one", at=100.0), TimerArmed)
    disconnect = next(timer for timer in armed if timer.rule == DISCONNECT)
    fired = run(TimerDue(at=120.0, timer_id=disconnect.timer_id))
    assert [type(event) for event in fired] == [TimerFired, UserNotified, UserMessageRequested, TimerCancelled, DisconnectRequested]
    assert fired[-1].cause == "inactivity"
    effects = pending_effects(run.state)
    assert [type(effect) for effect in effects] == [SendMessage, DisconnectParticipant]
    ended = run(DisconnectAcknowledged(at=121.0, effect_id=effects[1].effect_id))
    assert of_type(ended, ChatEnded)[0].reason == "UserLeft"
    assert of_type(ended, ReturnedToBot)[0].session_end_reason == "UserLeft"


def test_a_warning_with_only_a_user_message_sends_nothing_to_the_agent() -> None:
    quiet = AutoDisconnectRule(kind="WARNING", seconds_after_agent_message=5, user_message="Hello?")
    run = Run().connected(rules=(quiet,)).with_agent()
    [timer] = of_type(run.agent_says("one", at=100.0), TimerArmed)
    fired = run(TimerDue(at=105.0, timer_id=timer.timer_id))
    assert [type(event) for event in fired] == [TimerFired, UserNotified]


def test_chat_end_cancels_armed_timers() -> None:
    run = Run().connected().with_agent()
    run.agent_says("one", at=100.0)
    events = run(ChatEndedReceived(at=101.0, message_id="ended"))
    assert len(of_type(events, TimerCancelled)) == 2
    assert armed_timers(run.state) == []


def test_armed_timers_survive_replay() -> None:
    run = Run().connected().with_agent()
    run.agent_says("one", at=100.0)
    rebuilt = reduce(evolve, run.events, initial_state("conv-1"))
    assert armed_timers(rebuilt) == armed_timers(run.state) != []
