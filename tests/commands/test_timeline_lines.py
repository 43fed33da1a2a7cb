"""The timeline's words for what a message said before the worker changed it (translated, links shortened)."""

from __future__ import annotations

from commands.timeline import what
from events.conversation_events import AgentMessageReceived, SlashContentSent


def test_a_changed_message_shows_what_was_written_and_an_unchanged_one_does_not() -> None:
    shortened = SlashContentSent(at=0, command="/track", agent_name="Ana", text="See https://sqz.example/1",
                                 original_text="See https://shop.example/t/1")
    assert what(shortened) == '/track: "See https://sqz.example/1" (as written: "See https://shop.example/t/1")'
    assert what(SlashContentSent(at=0, command="/welcome", agent_name="Ana", text="Hi")) == '/welcome: "Hi"'
    translated = AgentMessageReceived(at=0, connect_message_id="m", role="AGENT", agent_name="Ana", content="hola",
                                      original_content="hello")
    assert what(translated) == '"hola" (as written: "hello")'
