"""Participant tokens never leave the store: redaction for exports, and reprs that hide them."""

from __future__ import annotations

from events import REDACTED, encode, redact, redact_state
from events.conversation_events import ChatStarted
from tests.events.scenario import TOKEN, Run


def test_redact_replaces_the_participant_token() -> None:
    run = Run().connected()
    exported = b"".join(encode(redact(event)) for event in run.events)
    assert TOKEN.encode() not in exported
    assert REDACTED.encode() in exported


def test_redact_leaves_events_without_credentials_alone() -> None:
    run = Run().connected()
    unchanged = [event for event in run.events if not isinstance(event, ChatStarted)]
    assert [redact(event) for event in unchanged] == unchanged


def test_redacted_state_keeps_everything_but_the_token() -> None:
    state = Run().connected().state
    redacted = redact_state(state)
    assert redacted.chat is not None and redacted.chat.participant_token == REDACTED
    assert TOKEN not in repr(redacted) and redacted.chat.participant_id == state.chat.participant_id


def test_reprs_do_not_show_the_token() -> None:
    run = Run().connected()
    assert TOKEN not in repr(run.events)
    assert TOKEN not in repr(run.state)
