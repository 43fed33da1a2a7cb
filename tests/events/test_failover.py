"""A failover order as each conversation takes it: once, drain or move, and what the bot gets back."""

from __future__ import annotations

import msgspec
import pytest

from events import Rejected, handback, pending_effects, redact
from events.commands import (
    ChatEndedReceived,
    ChatLeaveDone,
    ChatStartSucceeded,
    ConnectionEstablished,
    ParticipantJoinedReceived,
    SwitchRegion,
    UserLeaves,
    UserSays,
)
from events.conversation_decide import MOVED_NOTICE
from events.conversation_events import (
    AgentMessageReceived,
    ChatLeaveRequested,
    ChatLeft,
    ChatStartRequested,
    ErrorDetail,
    FailoverSwitched,
    ReturnedToBot,
    UserNotified,
)
from events.effects import LeaveChat, SendMessage, StartChat
from tests.events.scenario import CONNECTION_TOKEN, FAILOVER, PRIMARY, TOKEN, Run, of_type, transfer


def test_a_drain_order_is_recorded_and_the_started_chat_stays_where_it_is() -> None:
    run = Run().connected().with_agent()
    events = run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="drain"))
    assert events == [
        FailoverSwitched(at=5, target=PRIMARY, order=3, mode="drain", moved=False, previous=PRIMARY)
    ]
    assert run.state.phase == "connected" and run.state.target == PRIMARY and run.state.failover_order == 3


def test_a_chat_not_yet_started_starts_at_the_new_target_even_when_draining() -> None:
    run = Run()
    run(transfer())
    events = run(SwitchRegion(at=1, target=FAILOVER, order=2, mode="drain"))
    assert [type(event) for event in events] == [FailoverSwitched, ChatStartRequested]
    [start] = pending_effects(run.state)
    assert isinstance(start, StartChat) and start.target == FAILOVER and start.transcript_until is None
    with pytest.raises(Rejected) as raised:
        run(ChatStartSucceeded(at=2, effect_id=2, contact_id="c", participant_id="p", participant_token="t"))
    assert raised.value.code == "stale_report"


def test_a_move_starts_the_chat_again_at_the_new_target_then_leaves_the_old_one_and_tells_the_user() -> None:
    run = Run().connected().with_agent()
    before = run.state.version
    events = run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="move"))
    assert [type(event) for event in events] == [FailoverSwitched, ChatStartRequested, ChatLeaveRequested, UserNotified]
    assert events[0] == FailoverSwitched(at=5, target=FAILOVER, order=3, mode="move", moved=True, previous=PRIMARY)
    assert of_type(events, UserNotified)[0].text == MOVED_NOTICE
    assert run.state.phase == "starting" and run.state.chat is None and run.state.last_connect_id is None
    start, leave = pending_effects(run.state)
    assert isinstance(start, StartChat) and start.target == FAILOVER and start.transcript_until == before + 3
    assert isinstance(leave, LeaveChat) and leave.target == PRIMARY
    assert (leave.participant_token, leave.connection_token) == (TOKEN, CONNECTION_TOKEN)


def test_an_order_already_taken_or_older_changes_nothing() -> None:
    run = Run().connected()
    run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="move"))
    assert run(SwitchRegion(at=6, target=FAILOVER, order=3, mode="move")) == []
    assert run(SwitchRegion(at=6, target=PRIMARY, order=2, mode="move")) == []


def test_a_conversation_transferred_under_an_order_does_not_take_it_again() -> None:
    run = Run()
    run(msgspec.structs.replace(transfer(target=FAILOVER), failover_order=4))
    assert run(SwitchRegion(at=1, target=FAILOVER, order=4, mode="move")) == []


def test_messages_the_old_chat_had_not_sent_go_to_the_new_chat_once_it_is_connected() -> None:
    run = Run().connected().with_agent()
    run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="move"))
    run(UserSays(at=6, bot_message_id="b-1", text="still there?"))
    assert [type(effect) for effect in pending_effects(run.state)] == [StartChat, LeaveChat]
    start = pending_effects(run.state)[0]
    run(ChatStartSucceeded(at=7, effect_id=start.effect_id, contact_id="c-2", participant_id="p-2", participant_token="t-2"))
    run(ConnectionEstablished(at=7, connection_token="ct-2"))
    leave, send = pending_effects(run.state)
    assert isinstance(leave, LeaveChat) and isinstance(send, SendMessage) and send.text == "still there?"
    assert run(ChatLeaveDone(at=8, effect_id=leave.effect_id, error=ErrorDetail(code="ServiceUnavailable", message="down"))) == [
        ChatLeft(at=8, request_seq=leave.effect_id, error="ServiceUnavailable: down")
    ]


def test_a_user_who_has_left_is_not_moved() -> None:
    run = Run().connected()
    run(UserLeaves(at=4))
    [switched] = run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="move"))
    assert switched.moved is False and run.state.target == PRIMARY


def test_the_hand_back_says_which_region_served_the_conversation_last() -> None:
    run = Run().connected().with_agent()
    run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="move"))
    start = pending_effects(run.state)[0]
    run(ChatStartSucceeded(at=7, effect_id=start.effect_id, contact_id="c-2", participant_id="p-2", participant_token="t-2"))
    run(ConnectionEstablished(at=7, connection_token="ct-2"))
    [returned] = of_type(run(ChatEndedReceived(at=9, message_id="end")), ReturnedToBot)
    assert handback(returned)["ConnectRegion"] == {"Region": "us-west-2", "FailoverRegion": "us-west-2-oregon"}
    assert handback(returned)["ParticipantId"] == "p-2"


def test_the_leave_intents_tokens_never_leave_the_store() -> None:
    run = Run().connected()
    [leave] = of_type(run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="move")), ChatLeaveRequested)
    shown = redact(leave)
    assert TOKEN not in repr(leave) and CONNECTION_TOKEN not in repr(leave)
    assert (shown.participant_token, shown.connection_token) == ("<redacted>", "<redacted>")



def test_what_the_agent_left_behind_wrote_after_the_move_is_still_owed_to_the_user_but_its_end_is_not() -> None:
    run = Run().connected().with_agent()
    run.agent_says("one moment", at=3, message_id="m-1")
    [leave] = of_type(run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="move")), ChatLeaveRequested)
    assert leave.after_id == "m-1"
    [late] = of_type(run.agent_says("ah, you are moving", at=6, message_id="m-2"), AgentMessageReceived)
    assert late.content == "ah, you are moving"
    with pytest.raises(Rejected) as raised:
        run(ChatEndedReceived(at=7, message_id="old-chat-ended"))
    assert raised.value.code == "chat_not_started"
    leave_effect = next(e for e in pending_effects(run.state) if isinstance(e, LeaveChat))
    run(ChatLeaveDone(at=8, effect_id=leave_effect.effect_id))
    with pytest.raises(Rejected):  # left: until the new chat starts there is no chat to hear from
        run.agent_says("too late", at=9, message_id="m-3")


def test_a_move_back_before_the_new_chat_started_still_carries_the_conversation_from_the_chat_left_behind() -> None:
    run = Run().connected().with_agent()
    run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="move"))
    [restart] = of_type(run(SwitchRegion(at=6, target=PRIMARY, order=4, mode="move")), ChatStartRequested)
    assert restart.transcript_until == restart_seq(run, restart) and restart.target == PRIMARY


def restart_seq(run: Run, event: object) -> int:
    return run.events.index(event) + 1  # type: ignore[arg-type]


def test_an_agent_joining_the_chat_left_behind_before_it_is_left_is_told_to_the_bot() -> None:
    run = Run().connected()
    run(SwitchRegion(at=5, target=FAILOVER, order=3, mode="move"))
    assert [type(e).__name__ for e in run(ParticipantJoinedReceived(at=6, message_id="j-old", role="AGENT",
                                                                     display_name="Ana"))] == ["AgentJoined"]
