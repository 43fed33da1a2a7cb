"""Participant and connection tokens never leave the store: redaction for exports, and reprs that hide them."""

from __future__ import annotations

from events import REDACTED, encode, redact, redact_state
from events.commands import ConnectionEstablished, ConnectionTokenReceived
from events.conversation_events import ChatStarted, ConnectionOpened, ConnectionRenewed, ConnectionTokenKept
from tests.events.scenario import CONNECTION_TOKEN, TOKEN, Run


def test_redact_replaces_the_participant_and_connection_tokens() -> None:
    run = Run().connected()
    run(ConnectionEstablished(at=2, connection_token="renewed-SECRET", renewed=True))
    run(ConnectionTokenReceived(at=3, connection_token="kept-SECRET"))
    exported = b"".join(encode(redact(event)) for event in run.events)
    for token in (TOKEN, CONNECTION_TOKEN, "renewed-SECRET", "kept-SECRET"):
        assert token.encode() not in exported
    assert exported.count(REDACTED.encode()) == 4


def test_redact_leaves_events_without_credentials_alone() -> None:
    run = Run().connected()
    unchanged = [e for e in run.events if not isinstance(e, (ChatStarted, ConnectionOpened, ConnectionRenewed, ConnectionTokenKept))]
    assert [redact(event) for event in unchanged] == unchanged


def test_redacted_state_keeps_everything_but_the_token() -> None:
    state = Run().connected().state
    redacted = redact_state(state)
    assert redacted.chat is not None and redacted.chat.participant_token == REDACTED
    assert redacted.chat.connection_token == REDACTED
    assert TOKEN not in repr(redacted) and redacted.chat.participant_id == state.chat.participant_id


def test_reprs_do_not_show_the_token() -> None:
    run = Run().connected()
    run(ConnectionEstablished(at=2, connection_token="renewed-SECRET", renewed=True))
    run(ConnectionTokenReceived(at=3, connection_token="kept-SECRET"))
    for token in (TOKEN, CONNECTION_TOKEN, "renewed-SECRET", "kept-SECRET"):
        assert token not in repr(run.events) and token not in repr(run.state)
    assert "kept-SECRET" not in repr(ConnectionTokenReceived(at=3, connection_token="kept-SECRET"))
