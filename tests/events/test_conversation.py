"""decide and evolve through a conversation's life, with plain values."""

from __future__ import annotations

import msgspec

import pytest

from events import Rejected, armed_timers, client_token, decide, handback, pending_effects
from events.commands import (
    ChatEndedReceived,
    ChatFailed,
    ChatStartFailure,
    ChatStartSucceeded,
    ConnectionEstablished,
    ConnectionTokenReceived,
    ConnectMessageReceived,
    ContextChanged,
    ContextUpdateAcknowledged,
    DisconnectAcknowledged,
    ParticipantJoinedReceived,
    ParticipantLeftReceived,
    SwitchRegion,
    TimerDue,
    TypingEventReceived,
    UserLeaves,
    UserMessageAcknowledged,
    UserMessageRefused,
    UserMessageTooLong,
    UserSays,
    UserTyping,
)
from events.conversation_events import (
    AgentJoined,
    AgentMessageReceived,
    ChatEnded,
    ChatStartRequested,
    ConnectionOpened,
    ConnectionRenewed,
    ConnectionTokenKept,
    ContextUpdated,
    ContextUpdateRefused,
    DisconnectRequested,
    ErrorDetail,
    FailoverSwitched,
    MessageRefused,
    ReturnedToBot,
    TimerCancelled,
    Transferred,
    TypingReceived,
    UserMessageFailed,
    UserMessageRequested,
    UserMessageResplit,
    UserMessageSent,
    UserTypingRequested,
)
from events.conversation_decide import MAX_MESSAGE_PIECES
from events.effects import DisconnectParticipant, SendMessage, StartChat, UpdateContactAttributes
from events.long_messages import MAX_MESSAGE_BYTES, utf8_size
from tests.events.scenario import FAILOVER, PRIMARY, TOKEN, Run, of_type, transfer


def test_transfer_records_the_transfer_and_asks_for_a_chat() -> None:
    run = Run()
    events = run(transfer())
    assert [type(event) for event in events] == [Transferred, ChatStartRequested]
    assert run.state.phase == "starting"
    [start] = pending_effects(run.state)
    assert start == StartChat(
        effect_id=2, client_token=client_token("conv-1", 2), target=PRIMARY, display_name="Botty", context={"FirstName": "Bo"}
    )


def test_display_name_is_the_name_set_in_context() -> None:
    run = Run()
    [transferred, _] = run(transfer(context={"name": "Bo - sb2314211"}))
    assert transferred.display_name == "Bo - sb2314211"


def test_display_name_from_the_transfer_wins_over_the_bot_name() -> None:
    [transferred, _] = Run()(transfer(user_name="Bea"))
    assert transferred.display_name == "Bea"


def test_display_name_defaults_to_the_bot_name() -> None:
    [transferred, _] = Run()(transfer(context={}, user_name="  "))
    assert transferred.display_name == "Botty"


@pytest.mark.parametrize(
    ("user_name", "context", "field"),
    [("x" * 257, {}, "$.User.Name"), (None, {"name": "x" * 257}, "$.Context.name"), (None, {}, "$.BotName")],
)
def test_a_display_name_longer_than_connect_allows_is_rejected_naming_its_field(
    user_name: str | None, context: dict[str, str], field: str
) -> None:
    with pytest.raises(Rejected) as raised:
        Run()(msgspec.structs.replace(transfer(user_name=user_name, context=context), bot_name="x" * 257))
    assert raised.value.code == "invalid_display_name"
    assert raised.value.message.startswith(f"{field}: the customer's display name at Connect"), raised.value.message
    assert raised.value.message.endswith("must be 1 to 256 characters, got 257")


def test_second_transfer_of_a_live_conversation_is_rejected() -> None:
    run = Run()
    run(transfer())
    before = run.state
    with pytest.raises(Rejected) as raised:
        run(transfer(at=5))
    assert raised.value.code == "already_transferred"
    assert run.state is before


def test_client_tokens_are_stable_and_distinct_per_intent() -> None:
    assert client_token("conv-1", 2) == client_token("conv-1", 2)
    assert client_token("conv-1", 2) != client_token("conv-1", 3)
    assert client_token("conv-1", 2) != client_token("conv-2", 2)


def test_chat_started_then_connection_opened_makes_the_conversation_connected() -> None:
    run = Run().connected()
    assert run.state.phase == "connected"
    assert run.state.chat is not None and run.state.chat.participant_id == "participant-1"
    assert pending_effects(run.state) == []


def test_connection_before_the_chat_started_is_rejected() -> None:
    run = Run()
    run(transfer())
    with pytest.raises(Rejected) as raised:
        run(ConnectionEstablished(at=1, connection_token="conn-1"))
    assert raised.value.code == "chat_not_started"


def test_a_reconnect_is_recorded_with_its_connection_token() -> None:
    run = Run().connected()
    assert run(ConnectionEstablished(at=9, connection_token="conn-2")) == [ConnectionOpened(at=9, connection_token="conn-2")]
    assert run.state.connections == 2
    assert run.state.chat is not None and run.state.chat.connection_token == "conn-2"


def test_a_renewal_keeps_the_new_connection_token_without_counting_a_reconnect() -> None:
    run = Run().connected()
    assert run(ConnectionEstablished(at=9, connection_token="conn-2", renewed=True)) == [
        ConnectionRenewed(at=9, connection_token="conn-2")
    ]
    assert run.state.connections == 1
    assert run.state.chat is not None and run.state.chat.connection_token == "conn-2"


def test_a_new_connections_token_is_kept_before_its_socket_serves_and_only_once() -> None:
    run = Run()
    run(transfer())
    start = pending_effects(run.state)[0]
    run(ChatStartSucceeded(at=1, effect_id=start.effect_id, contact_id="c", participant_id="p", participant_token="t"))
    assert run(ConnectionTokenReceived(at=2, connection_token="conn-1")) == [
        ConnectionTokenKept(at=2, connection_token="conn-1")
    ]
    assert run.state.chat is not None and run.state.chat.connection_token == "conn-1"
    assert (run.state.phase, run.state.connections) == ("started", 0)  # kept, not yet serving
    assert run(ConnectionTokenReceived(at=3, connection_token="conn-1")) == []
    run(ConnectionEstablished(at=4, connection_token="conn-1"))
    assert (run.state.phase, run.state.connections) == ("connected", 1)


def test_user_message_before_the_chat_started_is_queued_until_connected() -> None:
    run = Run()
    run(transfer())
    [request] = run(UserSays(at=0.5, bot_message_id="b-1", text="hello"))
    assert isinstance(request, UserMessageRequested)
    assert not any(isinstance(effect, SendMessage) for effect in pending_effects(run.state))
    start = pending_effects(run.state)[0]
    run(ChatStartSucceeded(at=1, effect_id=start.effect_id, contact_id="c", participant_id="p", participant_token="t"))
    run(ConnectionEstablished(at=1, connection_token="conn-1"))
    assert pending_effects(run.state) == [
        SendMessage(effect_id=3, client_token=request.client_token, text="hello", content_type="text/plain")
    ]


def test_user_message_is_an_intent_until_connect_acknowledges_it() -> None:
    run = Run().connected()
    [request] = run(UserSays(at=3, bot_message_id="b-1", text="hi"))
    [effect] = pending_effects(run.state)
    assert effect.client_token == request.client_token == client_token("conv-1", run.state.version)
    assert run(UserMessageAcknowledged(at=4, effect_id=effect.effect_id, connect_message_id="cm-1")) == [
        UserMessageSent(at=4, request_seq=effect.effect_id, connect_message_id="cm-1")
    ]
    assert pending_effects(run.state) == []


def test_bot_retrying_a_message_yields_nothing() -> None:
    run = Run().connected()
    run(UserSays(at=3, bot_message_id="b-1", text="hi"))
    assert run(UserSays(at=4, bot_message_id="b-1", text="hi")) == []


def test_acknowledging_an_unknown_effect_is_a_stale_report() -> None:
    run = Run().connected()
    with pytest.raises(Rejected) as raised:
        run(UserMessageAcknowledged(at=4, effect_id=99, connect_message_id="cm-1"))
    assert raised.value.code == "stale_report"


def test_an_empty_user_message_is_rejected() -> None:
    run = Run().connected()
    with pytest.raises(Rejected) as raised:
        run(UserSays(at=3, bot_message_id="b-1", text=""))
    assert raised.value.code == "empty_message"


def test_a_user_message_at_connects_limit_is_one_request() -> None:
    run = Run().connected()
    [request] = run(UserSays(at=3, bot_message_id="b-1", text="x" * MAX_MESSAGE_BYTES))
    assert isinstance(request, UserMessageRequested) and len(request.text) == MAX_MESSAGE_BYTES


def test_a_longer_user_message_is_sent_as_ordered_pieces_that_join_back_to_it() -> None:
    run = Run().connected()
    text = "".join(f"Paragraph {n}. " + "word " * 1000 + "\n\n" for n in range(8))[:40_000]
    assert len(text) == 40_000
    requests = run(UserSays(at=3, bot_message_id="b-1", text=text))
    assert len(requests) == 3 and all(isinstance(request, UserMessageRequested) for request in requests)
    assert "".join(request.text for request in requests) == text
    assert all(len(request.text) <= MAX_MESSAGE_BYTES for request in requests)
    assert {request.bot_message_id for request in requests} == {"b-1"}
    first_seq = run.state.version - 2
    assert [request.client_token for request in requests] == [client_token("conv-1", first_seq + n) for n in range(3)]
    effects = pending_effects(run.state)
    assert [effect.text for effect in effects] == [request.text for request in requests]
    assert [effect.client_token for effect in effects] == [request.client_token for request in requests]


def test_the_bot_retrying_a_long_message_yields_nothing_and_each_piece_is_acknowledged_on_its_own() -> None:
    run = Run().connected()
    run(UserSays(at=3, bot_message_id="b-1", text="x" * 20_000))
    assert run(UserSays(at=4, bot_message_id="b-1", text="x" * 20_000)) == []
    first, second = pending_effects(run.state)
    run(UserMessageAcknowledged(at=5, effect_id=first.effect_id, connect_message_id="cm-1"))
    assert pending_effects(run.state) == [second]
    run(UserMessageAcknowledged(at=6, effect_id=second.effect_id, connect_message_id="cm-2"))
    assert pending_effects(run.state) == []


def test_a_bot_message_id_is_remembered_for_the_whole_conversation() -> None:
    run = Run().connected()
    longest = "x" * MAX_MESSAGE_PIECES * MAX_MESSAGE_BYTES
    run(UserSays(at=3, bot_message_id="b-long", text=longest))
    for n in range(2_000):
        run(UserSays(at=4, bot_message_id=f"b-{n}", text="hi"))
    assert run(UserSays(at=5, bot_message_id="b-long", text=longest)) == []
    assert run(UserSays(at=5, bot_message_id="b-0", text="hi")) == []


def test_a_connect_item_is_recognised_however_long_ago_it_came_and_the_last_one_is_kept() -> None:
    run = Run().connected().with_agent()
    for n in range(2_000):
        run.agent_says(f"reply {n}", at=3, message_id=f"cm-{n}")
    assert run.state.last_connect_id == "cm-1999"
    assert run.agent_says("reply 0", at=4, message_id="cm-0") == []
    assert run(ParticipantJoinedReceived(at=4, message_id="joined-Ana", role="AGENT", display_name="Ana")) == []


def test_a_workers_lower_limit_in_bytes_splits_a_non_latin_message_by_it() -> None:
    run = Run().connected(target=msgspec.structs.replace(PRIMARY, max_message_bytes=100))
    greek = "αβγδε " * 30  # 330 bytes, 180 characters
    requests = run(UserSays(at=3, bot_message_id="b-1", text=greek))
    assert len(requests) == 4 and "".join(r.text for r in requests) == greek
    assert all(utf8_size(r.text) <= 100 for r in requests)


def test_a_message_over_the_workers_limit_times_the_pieces_is_refused_in_bytes() -> None:
    run = Run().connected(target=msgspec.structs.replace(PRIMARY, max_message_bytes=100))
    with pytest.raises(Rejected) as raised:
        run(UserSays(at=3, bot_message_id="b-1", text="ж" * 501))
    assert raised.value.code == "message_too_long"
    assert "1,002 bytes" in raised.value.message and "at most 100 bytes a message" in raised.value.message


def test_a_piece_connect_refuses_as_too_long_is_sent_again_in_halves_in_its_place() -> None:
    run = Run().connected()
    first, second = run(UserSays(at=3, bot_message_id="b-1", text="word " * 4_000))
    refused = ErrorDetail(code="ValidationException", message="Content length exceeds the limit")
    events = run(UserMessageTooLong(at=4, effect_id=run.state.version - 1, error=refused))
    resplit, *halves = events
    assert isinstance(resplit, UserMessageResplit) and resplit.request_seq == run.state.version - len(events) - 1
    assert len(halves) == 2 and "".join(h.text for h in halves) == first.text
    assert all(h.bot_message_id == "b-1" for h in halves)
    assert [h.client_token for h in halves] == [client_token("conv-1", run.state.version - 1 + n) for n in range(2)]
    # The halves go before the second piece, though they were written after it.
    assert [effect.text for effect in pending_effects(run.state)] == [halves[0].text, halves[1].text, second.text]
    assert of_type(events, MessageRefused) == []


def test_a_half_refused_again_is_halved_again_and_keeps_its_place() -> None:
    run = Run().connected()
    run(UserSays(at=3, bot_message_id="b-1", text="word " * 2_000))
    refused = ErrorDetail(code="ValidationException", message="too long")
    run(UserMessageTooLong(at=4, effect_id=pending_effects(run.state)[0].effect_id, error=refused))
    first_half, second_half = pending_effects(run.state)
    run(UserMessageTooLong(at=5, effect_id=first_half.effect_id, error=refused))
    texts = [effect.text for effect in pending_effects(run.state)]
    assert len(texts) == 3 and texts[2] == second_half.text
    assert "".join(texts) == "word " * 2_000


def test_a_small_piece_still_too_long_for_connect_is_refused_and_the_bot_told() -> None:
    run = Run().connected()
    [request] = run(UserSays(at=3, bot_message_id="b-1", text="short enough"))
    refused = ErrorDetail(code="ValidationException", message="too long")
    events = run(UserMessageTooLong(at=4, effect_id=run.state.version, error=refused))
    assert [type(event) for event in events] == [UserMessageFailed, MessageRefused]
    assert pending_effects(run.state) == []


def test_a_message_connect_refuses_is_told_to_the_bot_with_its_id_and_the_reason() -> None:
    run = Run().connected()
    run(UserSays(at=3, bot_message_id="b-7", text="hello"))
    refused = ErrorDetail(code="ValidationException", message="ContentType text/x-card is not supported")
    events = run(UserMessageRefused(at=4, effect_id=run.state.version, error=refused))
    assert [type(event) for event in events] == [UserMessageFailed, MessageRefused]
    told = events[1]
    assert (told.bot_message_id, told.code, told.message) == ("b-7", "ValidationException", refused.message)


def test_a_refused_auto_disconnect_message_is_not_the_bots_to_hear_of() -> None:
    run = Run().connected().with_agent()
    run.agent_says("Hello", at=2)
    run(TimerDue(at=12, timer_id=armed_timers(run.state)[0].timer_id))
    [warning] = [e for e in pending_effects(run.state) if isinstance(e, SendMessage)]
    refused = ErrorDetail(code="ValidationException", message="no")
    assert [type(e) for e in run(UserMessageRefused(at=13, effect_id=warning.effect_id, error=refused))] == [UserMessageFailed]


def test_a_context_update_connect_refuses_is_told_to_the_bot_and_the_context_kept() -> None:
    run = Run().connected()
    run(ContextChanged(at=3, context={"plan": "gold"}))
    refused = ErrorDetail(code="InvalidParameterException", message="Attributes too large")
    events = run(ContextUpdateAcknowledged(at=4, effect_id=run.state.version, error=refused))
    assert [type(event) for event in events] == [ContextUpdated, ContextUpdateRefused]
    assert (events[1].code, events[1].message) == ("InvalidParameterException", "Attributes too large")
    assert run.state.context == {"plan": "gold"}
    assert run(ContextChanged(at=5, context={"plan": "silver"}))
    assert [type(e) for e in run(ContextUpdateAcknowledged(at=6, effect_id=run.state.version))] == [ContextUpdated]


def test_a_long_user_message_cancels_the_silence_timers_after_its_pieces() -> None:
    run = Run().connected().with_agent()
    run.agent_says("How can I help?", at=2)
    events = run(UserSays(at=3, bot_message_id="b-1", text="x" * 20_000))
    assert [type(event) for event in events] == [UserMessageRequested, UserMessageRequested, TimerCancelled, TimerCancelled]
    assert armed_timers(run.state) == []


def test_a_user_message_needing_more_pieces_than_allowed_is_rejected_with_its_size_and_records_nothing() -> None:
    run = Run().connected()
    too_long = "x" * (MAX_MESSAGE_PIECES * MAX_MESSAGE_BYTES + 1)
    with pytest.raises(Rejected) as raised:
        run(UserSays(at=3, bot_message_id="b-1", text=too_long))
    assert raised.value.code == "message_too_long"
    assert f"is {len(too_long):,} bytes in UTF-8" in raised.value.message
    assert f"at most {MAX_MESSAGE_BYTES:,} bytes a message" in raised.value.message
    assert run(UserSays(at=4, bot_message_id="b-1", text="shorter")) != []


def test_a_user_message_that_cuts_into_too_many_pieces_is_rejected_though_it_is_short_enough() -> None:
    # Each early space forces a short piece, so this needs more than MAX_MESSAGE_PIECES messages.
    chunk = "a " + "b" * (MAX_MESSAGE_BYTES - 2)
    text = chunk * MAX_MESSAGE_PIECES
    assert len(text) <= MAX_MESSAGE_PIECES * MAX_MESSAGE_BYTES
    with pytest.raises(Rejected) as raised:
        Run().connected()(UserSays(at=3, bot_message_id="b-1", text=text))
    assert raised.value.code == "message_too_long"


def test_user_message_before_any_transfer_is_rejected() -> None:
    with pytest.raises(Rejected) as raised:
        Run()(UserSays(at=1, bot_message_id="b-1", text="hi"))
    assert raised.value.code == "not_transferred"


def test_agent_message_is_relayed_with_connect_id_and_agent_name() -> None:
    run = Run().connected().with_agent()
    events = run.agent_says("Hello, I am Ana", at=5, message_id="cm-7")
    [message] = of_type(events, AgentMessageReceived)
    assert (message.connect_message_id, message.agent_name, message.content, message.role) == ("cm-7", "Ana", "Hello, I am Ana", "AGENT")


def test_agent_message_with_seen_id_yields_nothing() -> None:
    run = Run().connected().with_agent()
    run.agent_says("once", at=5, message_id="cm-7")
    assert run.agent_says("once", at=6, message_id="cm-7") == []


def test_agent_joined_twice_with_the_same_id_is_recorded_once() -> None:
    run = Run().connected().with_agent().with_agent()
    assert len(of_type(run.events, AgentJoined)) == 1


def test_customer_echo_is_ignored() -> None:
    run = Run().connected()
    echo = ConnectMessageReceived(at=5, message_id="cm-1", role="CUSTOMER", display_name="Botty", content="hi")
    assert run(echo) == []


def test_contact_flow_message_reaches_the_user_like_an_agent_message_without_timers() -> None:
    run = Run().connected()
    events = run(ConnectMessageReceived(at=5, message_id="cm-1", role="SYSTEM", display_name="SYSTEM_MESSAGE", content="We are closed"))
    assert [type(event) for event in events] == [AgentMessageReceived]
    assert run.state.last_known_agent is None


def test_agent_typing_is_relayed_and_customer_typing_is_not() -> None:
    run = Run().connected()
    assert run(TypingEventReceived(at=5, role="AGENT", display_name="Ana")) == [TypingReceived(at=5, agent_name="Ana")]
    assert run(TypingEventReceived(at=6, role="CUSTOMER", display_name="Botty")) == []


def test_user_typing_waits_for_its_acknowledgement_before_another() -> None:
    run = Run().connected()
    [typing] = run(UserTyping(at=3))
    assert isinstance(typing, UserTypingRequested)
    assert run(UserTyping(at=4)) == []


def test_context_change_updates_contact_attributes_and_the_handback_context() -> None:
    run = Run().connected()
    [request] = run(ContextChanged(at=3, context={"FirstName": "Bo", "Plan": "gold"}))
    [effect] = pending_effects(run.state)
    assert effect == UpdateContactAttributes(effect_id=run.state.version, context={"FirstName": "Bo", "Plan": "gold"})
    run(ContextUpdateAcknowledged(at=4, effect_id=effect.effect_id))
    assert pending_effects(run.state) == []
    assert run.state.context == {"FirstName": "Bo", "Plan": "gold"}


def test_user_leaving_disconnects_then_hands_back_with_user_left() -> None:
    run = Run().connected().with_agent()
    [request] = run(UserLeaves(at=5))
    assert isinstance(request, DisconnectRequested) and request.cause == "user"
    [effect] = pending_effects(run.state)
    assert effect == DisconnectParticipant(effect_id=run.state.version, client_token=request.client_token)
    events = run(DisconnectAcknowledged(at=6, effect_id=effect.effect_id))
    assert of_type(events, ChatEnded)[0].reason == "UserLeft"
    assert of_type(events, ReturnedToBot)[0].session_end_reason == "UserLeft"
    assert run.state.phase == "returned"


def test_user_leaving_twice_asks_for_one_disconnect() -> None:
    run = Run().connected()
    run(UserLeaves(at=5))
    assert run(UserLeaves(at=6)) == []


def test_agent_leaving_then_chat_ended_hands_back_with_agent_left() -> None:
    run = Run().connected().with_agent("Ana")
    run(ParticipantLeftReceived(at=7, message_id="left-1", role="AGENT", display_name="Ana"))
    events = run(ChatEndedReceived(at=8, message_id="ended-1"))
    assert of_type(events, ReturnedToBot)[0].session_end_reason == "AgentLeft"


def test_bot_messages_connect_never_confirmed_are_refused_to_the_bot_when_the_chat_ends() -> None:
    run = Run().connected().with_agent("Ana")
    run(UserSays(at=5, bot_message_id="b-sent", text="sent"))
    run(UserMessageAcknowledged(at=5, effect_id=pending_effects(run.state)[0].effect_id, connect_message_id="m-1"))
    long_text = "x" * (MAX_MESSAGE_BYTES + 1)
    run(UserSays(at=6, bot_message_id="b-long", text=long_text))
    run(UserSays(at=6, bot_message_id="b-short", text="unsent"))
    events = run(ChatEndedReceived(at=8, message_id="ended-1"))
    refused = of_type(events, MessageRefused)
    assert [r.bot_message_id for r in refused] == ["b-long", "b-short"]
    assert {r.code for r in refused} == {"ChatEnded"}
    assert events.index(refused[-1]) < events.index(of_type(events, ReturnedToBot)[0])


def test_chat_the_flow_ends_before_any_agent_is_handed_back_with_error() -> None:
    run = Run().connected()
    events = run(ChatEndedReceived(at=8, message_id="ended-1"))
    [ended] = of_type(events, ChatEnded)
    assert ended.reason == "Error" and ended.detail == "the chat ended before any agent joined"
    assert handback(of_type(events, ReturnedToBot)[0])["Error"]["Code"] == "NoAgentJoined"


def test_connect_refusing_the_chat_hands_back_with_error() -> None:
    run = Run()
    run(transfer())
    events = run(ChatStartFailure(at=1, effect_id=2, error=ErrorDetail(code="LimitExceededException", message="too many chats")))
    [returned] = of_type(events, ReturnedToBot)
    assert returned.session_end_reason == "Error" and returned.participant_id is None
    assert handback(returned)["Error"] == {"Code": "LimitExceededException", "Message": "too many chats"}
    assert run.state.end_error == ErrorDetail(code="LimitExceededException", message="too many chats")
    assert pending_effects(run.state) == []


def test_chat_failing_mid_way_hands_back_with_error() -> None:
    run = Run().connected().with_agent()
    events = run(ChatFailed(at=9, error=ErrorDetail(code="ChatSocketGaveUp", message=f"{TOKEN} refused on reconnect")))
    [returned] = of_type(events, ReturnedToBot)
    assert returned.session_end_reason == "Error"
    # Never the participant token, even if an error message quoted it.
    assert handback(returned)["Error"] == {"Code": "ChatSocketGaveUp", "Message": "<redacted> refused on reconnect"}


def test_message_after_the_end_is_rejected_and_connect_frames_are_ignored() -> None:
    run = Run().connected().with_agent()
    run(ChatEndedReceived(at=8, message_id="ended-1"))
    with pytest.raises(Rejected) as raised:
        run(UserSays(at=9, bot_message_id="b-9", text="hello?"))
    assert raised.value.code == "conversation_ended"
    assert run.agent_says("late", at=10) == []
    with pytest.raises(Rejected) as raised:
        run(transfer(at=11))
    assert raised.value.code == "conversation_ended"


def test_failover_before_the_chat_started_restarts_it_at_the_failover_target() -> None:
    run = Run()
    run(transfer())
    events = run(SwitchRegion(at=1, target=FAILOVER))
    assert [type(event) for event in events] == [FailoverSwitched, ChatStartRequested]
    [start] = pending_effects(run.state)
    assert start.target == FAILOVER and start.effect_id == 4
    with pytest.raises(Rejected) as raised:
        run(ChatStartSucceeded(at=2, effect_id=2, contact_id="c", participant_id="p", participant_token="t"))
    assert raised.value.code == "stale_report"


def test_unknown_command_is_rejected() -> None:
    with pytest.raises(Rejected) as raised:
        decide(Run().state, "not a command")  # type: ignore[arg-type]
    assert raised.value.code == "unknown_command"
