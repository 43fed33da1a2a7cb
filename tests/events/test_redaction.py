"""Participant and connection tokens never leave the store: redaction for exports, and reprs that hide them."""

from __future__ import annotations

import msgspec
import pytest

from events import REDACTED, encode, redact, redact_state, redact_url
from events.commands import ConnectionEstablished, ConnectionTokenReceived
from events.conversation_events import ChatStarted, ConnectionOpened, ConnectionRenewed, ConnectionTokenKept, ShortLinkRule
from tests.events.scenario import CONNECTION_TOKEN, TOKEN, Run, transfer

# A bot whose receiver cannot check signatures puts a credential of its own in its webhook URL.
HOOK_WITH_SECRETS = "https://bot:pw-SECRET@bot.example/hook?tenant=7&access_token=tok-SECRET&sig=sig-SECRET#top"


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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (HOOK_WITH_SECRETS, "https://bot:<redacted>@bot.example/hook?tenant=7&access_token=<redacted>&sig=<redacted>#top"),
        ("http://127.0.0.1:9/h?token=t&api_key=k&X-Amz-Signature=s&page=2",
         "http://127.0.0.1:9/h?token=<redacted>&api_key=<redacted>&X-Amz-Signature=<redacted>&page=2"),
        ("https://bot.example/hook?tenant=7", "https://bot.example/hook?tenant=7"),
        ("https://user@bot.example/webhook", "https://user@bot.example/webhook"),
        ("", ""),
    ],
)
def test_a_webhook_urls_credentials_are_redacted_and_nothing_else(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_the_transfer_and_the_state_show_the_webhook_url_without_its_credentials() -> None:
    run = Run()
    run(msgspec.structs.replace(transfer(), deliver_to=HOOK_WITH_SECRETS))
    shown = b"".join(encode(redact(event)) for event in run.events) + repr(redact_state(run.state)).encode()
    assert b"SECRET" not in shown and b"bot.example/hook?tenant=7" in shown
    assert run.state.deliver_to == HOOK_WITH_SECRETS  # the stored URL, which the webhook is posted to


def test_the_short_link_apis_password_is_redacted_where_the_transfer_and_the_state_are_shown() -> None:
    api = "https://acme:pw-SECRET@sqz.example/standard?api_key=key-SECRET"
    rule = ShortLinkRule(api=api, api_key_ref="srn:vault::acme:secret:squeeze")
    run = Run()
    run(transfer(short_links=rule))
    shown = b"".join(encode(redact(event)) for event in run.events) + repr(redact_state(run.state)).encode()
    assert b"SECRET" not in shown and b"sqz.example/standard" in shown
    assert run.state.short_links == rule  # the stored URL, which the service calls
