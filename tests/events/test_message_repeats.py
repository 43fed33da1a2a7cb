"""A repeated MessageId: what the bot first sent, read back from the conversation's events however it
was written (in pieces, split again, translated), and a repeat refused only when it differs."""

from __future__ import annotations

import pytest

from events import Rejected, pending_effects
from events.commands import UserMessageTooLong, UserMessageTranslationDone, UserSays
from events.conversation_events import ErrorDetail
from events.message_repeats import SentMessage, first_sent, refuse_a_different_repeat
from tests.events.scenario import Run
from tests.events.test_translation import translated_chat


def test_a_message_sent_in_pieces_and_split_again_is_read_back_whole() -> None:
    run = Run().connected()
    text = "x" * 20_000
    run(UserSays(at=3, bot_message_id="b-1", text=text, content_type="text/markdown"))
    run(UserSays(at=3, bot_message_id="b-2", text="something else"))
    first_piece = pending_effects(run.state)[0]
    run(UserMessageTooLong(at=4, effect_id=first_piece.effect_id, error=ErrorDetail(code="TooLong", message="no")))

    assert first_sent(run.events, "b-1") == SentMessage(text=text, content_type="text/markdown")
    assert first_sent(run.events, "b-2") == SentMessage(text="something else", content_type="text/plain")
    assert first_sent(run.events, "b-3") is None


def test_a_translated_message_is_read_back_as_the_bot_wrote_it() -> None:
    run = translated_chat()
    run(UserSays(at=3, bot_message_id="b-1", text="hola"))
    [translate] = pending_effects(run.state)
    run(UserMessageTranslationDone(at=4, effect_id=translate.effect_id, translated="hello"))

    assert first_sent(run.events, "b-1") == SentMessage(text="hola", content_type="text/plain")


def test_a_repeat_of_the_same_message_passes_and_a_different_one_is_refused_naming_what_differs() -> None:
    first = SentMessage(text="Where is my order?", content_type="text/plain")
    refuse_a_different_repeat(UserSays(at=5, bot_message_id="m-1", text="Where is my order?"), first)

    with pytest.raises(Rejected) as other_text:
        refuse_a_different_repeat(UserSays(at=5, bot_message_id="m-1", text="Cancel my order"), first)
    assert other_text.value.code == "idempotency_conflict"
    assert other_text.value.message.startswith("$.MessageId: 'm-1' was already used")
    assert "different Text:" in other_text.value.message

    with pytest.raises(Rejected) as other_type:
        refuse_a_different_repeat(
            UserSays(at=5, bot_message_id="m-1", text="Where is my order?", content_type="text/markdown"), first
        )
    assert "different ContentType:" in other_type.value.message
