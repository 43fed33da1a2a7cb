"""The conversation so far, carried to the new chat of a failover move within Connect's attribute limit."""

from __future__ import annotations

from events.carried_transcript import MOVED_FROM, OMITTED, TRANSCRIPT, attributes_size, carried_attributes, transcript_lines
from events.conversation_events import (
    AgentMessageReceived,
    ChatLeaveRequested,
    ChatStarted,
    SlashContentSent,
    UserMessageRequested,
    UserMessageSent,
)
from tests.events.scenario import PRIMARY

STARTED = (0, ChatStarted(at=0, request_seq=1, contact_id="c-1", participant_id="p-1", participant_token="t"))
MOVED = (9_999, ChatLeaveRequested(at=0, target=PRIMARY, contact_id="c-1", participant_id="p-1", participant_token="t",
                                   connection_token=None, client_token="ct"))


def said(user: list[str], agent: list[str]) -> list[tuple[int, object]]:
    """User and agent messages alternating, each user message confirmed by Connect."""
    events: list[tuple[int, object]] = []
    for index, (question, answer) in enumerate(zip(user, agent)):
        seq = 10 * index + 1
        events.append((seq, UserMessageRequested(at=0, text=question, client_token=f"t{seq}", bot_message_id=f"b{seq}")))
        events.append((seq + 1, UserMessageSent(at=0, request_seq=seq, connect_message_id=f"m{seq}")))
        events.append((seq + 2, AgentMessageReceived(at=0, connect_message_id=f"a{seq}", role="AGENT", agent_name="Ana", content=answer)))
    return events


def test_the_transcript_has_confirmed_user_messages_agent_messages_as_written_and_slash_content() -> None:
    events = [
        (1, UserMessageRequested(at=0, text="hi", client_token="t1", bot_message_id="b1")),
        (2, UserMessageRequested(at=0, text="never confirmed", client_token="t2", bot_message_id="b2")),
        (3, UserMessageRequested(at=0, text="a notice", client_token="t3", origin="notice")),
        (4, UserMessageSent(at=0, request_seq=1, connect_message_id="m1")),
        (5, UserMessageSent(at=0, request_seq=3, connect_message_id="m3")),
        (6, AgentMessageReceived(at=0, connect_message_id="a1", role="AGENT", agent_name="Ana", content="hola", original_content="hello")),
        (7, SlashContentSent(at=0, command="/welcome", agent_name="Ana", text="Welcome, Bo")),
        (8, SlashContentSent(at=0, command="/track", agent_name="Ana", text="See https://sqz.example/1",
                             original_text="See https://shop.example/t/1")),
    ]
    assert transcript_lines(events) == [  # type: ignore[arg-type]
        "Customer: hi", "Ana: hello", "Ana: Welcome, Bo", "Ana: See https://shop.example/t/1",
    ]


def test_everything_is_carried_when_it_fits() -> None:
    attributes = carried_attributes([STARTED, *said(["hi"], ["hello"]), MOVED], room=32_768)  # type: ignore[list-item]
    assert attributes == {MOVED_FROM: "us-east-1 (primary) contact c-1", TRANSCRIPT: "Customer: hi\nAna: hello"}


def test_the_latest_lines_are_kept_within_the_room_after_a_marker() -> None:
    events = said([f"question {i} " + "x" * 100 for i in range(50)], [f"answer {i}" for i in range(50)])
    room = 2_000
    attributes = carried_attributes([STARTED, *events, MOVED], room=room)  # type: ignore[list-item]
    assert attributes_size(attributes) <= room
    lines = attributes[TRANSCRIPT].split("\n")
    assert lines[0] == OMITTED and lines[-1] == "Ana: answer 49"
    assert attributes_size(attributes) > room - 150  # nearly all the room is used


def test_no_attribute_is_added_when_the_bots_own_leave_no_room() -> None:
    assert carried_attributes([STARTED, *said(["hi"], ["hello"]), MOVED], room=10) == {}  # type: ignore[list-item]


def test_a_chat_that_never_moved_carries_nothing() -> None:
    assert carried_attributes([STARTED, *said(["hi"], ["hello"])], room=32_768) == {}  # type: ignore[list-item]
