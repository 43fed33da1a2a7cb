"""Frame parsing: every frame becomes a typed value, never an exception."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect_client import (
    ChatItem,
    Heartbeat,
    ItemKind,
    MalformedFrame,
    OtherFrame,
    PingAnswer,
    SubscribeAnswer,
    parse_frame,
)

EVENT = "application/vnd.amazonaws.connect.event."
AGENT_MESSAGE = {
    "Id": "item-1",
    "Type": "MESSAGE",
    "ParticipantId": "agent-1",
    "DisplayName": "Ana",
    "ParticipantRole": "AGENT",
    "ContentType": "text/plain",
    "Content": "Hello Bob",
    "AbsoluteTime": "2026-11-24T07:00:00.123Z",
    "ContactId": "contact-1",
    "InitialContactId": "contact-1",
}


def chat_frame(item: dict[str, object]) -> str:
    return json.dumps({"topic": "aws/chat", "contentType": "application/json", "content": json.dumps(item)})


def test_a_chat_frame_is_a_chat_item_with_every_field() -> None:
    item = parse_frame(chat_frame(AGENT_MESSAGE))

    assert item == ChatItem(
        id="item-1",
        type="MESSAGE",
        content_type="text/plain",
        absolute_time="2026-11-24T07:00:00.123Z",
        participant_id="agent-1",
        display_name="Ana",
        participant_role="AGENT",
        content="Hello Bob",
        contact_id="contact-1",
        initial_contact_id="contact-1",
    )
    assert isinstance(item, ChatItem) and item.kind is ItemKind.MESSAGE and item.in_transcript


@pytest.mark.parametrize(
    ("item_type", "content_type", "kind", "in_transcript"),
    [
        ("EVENT", EVENT + "typing", ItemKind.TYPING, False),
        ("EVENT", EVENT + "participant.joined", ItemKind.PARTICIPANT_JOINED, True),
        ("EVENT", EVENT + "participant.left", ItemKind.PARTICIPANT_LEFT, True),
        ("EVENT", EVENT + "chat.ended", ItemKind.CHAT_ENDED, True),
        ("EVENT", EVENT + "transfer.succeeded", ItemKind.TRANSFER_SUCCEEDED, True),
        ("EVENT", EVENT + "transfer.failed", ItemKind.TRANSFER_FAILED, True),
        ("EVENT", EVENT + "connection.acknowledged", ItemKind.CONNECTION_ACKNOWLEDGED, False),
        ("MESSAGEMETADATA", EVENT + "message.delivered", ItemKind.DELIVERED, False),
        ("MESSAGEMETADATA", EVENT + "message.read", ItemKind.READ, False),
        ("EVENT", EVENT + "something.new", ItemKind.OTHER_EVENT, True),
        ("ATTACHMENT", "application/pdf", ItemKind.ATTACHMENT, True),
        ("MESSAGE", "text/markdown", ItemKind.MESSAGE, True),
    ],
)
def test_the_kind_comes_from_type_and_content_type(item_type: str, content_type: str, kind: ItemKind, in_transcript: bool) -> None:
    item = parse_frame(chat_frame({**AGENT_MESSAGE, "Type": item_type, "ContentType": content_type}))

    assert isinstance(item, ChatItem)
    assert (item.kind, item.in_transcript) == (kind, in_transcript)


def test_receipts_carry_the_message_they_are_about() -> None:
    receipt = {
        "MessageId": "item-1",
        "Receipts": [{"RecipientParticipantId": "agent-1", "ReadTimestamp": "2026-11-24T07:00:01.000Z"}],
    }
    frame = chat_frame({**AGENT_MESSAGE, "Id": "r-1", "Type": "MESSAGEMETADATA", "ContentType": EVENT + "message.read", "MessageMetadata": receipt})

    item = parse_frame(frame)

    assert isinstance(item, ChatItem) and item.message_metadata is not None
    assert item.message_metadata.message_id == "item-1"
    assert item.message_metadata.receipts[0].recipient_participant_id == "agent-1"


def test_a_transcript_item_decodes_to_the_same_value_as_its_frame() -> None:
    """GetTranscript's items are decoded as ChatItem straight from the answer's JSON (participant.py)."""
    assert msgspec.json.decode(msgspec.json.encode(AGENT_MESSAGE), type=ChatItem) == parse_frame(chat_frame(AGENT_MESSAGE))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"topic":"aws/heartbeat"}', Heartbeat()),
        ('{"topic":"aws/ping","statusCode":200}', PingAnswer(200)),
        ('{"topic":"aws/ping"}', PingAnswer(None)),
        ('{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}', SubscribeAnswer(True, ("aws/chat",))),
        ('{"topic":"aws/subscribe","content":{"status":"failure","topics":[]}}', SubscribeAnswer(False, ())),
        ('{"topic":"aws/unsubscribe","content":{"status":"success"}}', OtherFrame("aws/unsubscribe")),
    ],
)
def test_control_frames(text: str, expected: object) -> None:
    assert parse_frame(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "no topic"),
        ('{"content": "x"}', "no topic"),
        ('{"topic":"aws/chat","content":{"Id":"x"}}', "aws/chat content is not a JSON string"),
        ('{"topic":"aws/chat","content":"{\\"Type\\":\\"MESSAGE\\"}"}', "aws/chat item: Object missing required field `Id`"),
        ('{"topic":"aws/chat","content":"not json"}', "aws/chat item: JSON is malformed"),
        ('{"topic":"aws/subscribe","content":{}}', "aws/subscribe answer without a status"),
    ],
)
def test_malformed_frames_are_values_that_say_why(text: str, reason: str) -> None:
    frame = parse_frame(text)

    assert isinstance(frame, MalformedFrame)
    assert frame.reason.startswith(reason)
    assert frame.excerpt == text[:80]


@given(st.one_of(st.text(), st.binary()))
def test_no_text_makes_the_parser_raise(text: str | bytes) -> None:
    parse_frame(text)
