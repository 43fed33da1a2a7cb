"""No message stops a sender: one that can never be posted is refused and recorded, anything else retried.

The webhooks below are written straight into the store: the API refuses them
at the transfer, but a log from before that check, or another writer, holds them.
"""

from __future__ import annotations

import json
import logging

import pytest

import logs
from delivery import WebhookDeliverer
from events import encode, event_type
from store import EventStore, NewEvent
from store.conversations import conversation_stream
from tests.delivery.deliverers import SECRET, ids, start, told
from tests.delivery.conversations import append, chat, hand_back, started, whole
from tests.delivery.polling import eventually
from tests.delivery.receiver import Receiver

SENDERS = 4


def undeliverable(receiver: Receiver) -> dict[str, str]:
    """As many conversations as senders, each with a webhook no request can be made to."""
    return {
        "ipv6": "http://[::1",  # unclosed bracket: urlsplit raises ValueError
        "ipv6-https": "https://[fe80::1/hook",
        "idna": f"http://{'a' * 64}.example/hook",  # a label over 63 characters: the idna codec raises UnicodeError
        "header\n": receiver.url("header"),  # the id, in the webhook-id header, is not a valid header value
    }


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "refused, not retried" in r.getMessage()]


def test_webhooks_no_request_can_be_made_to_are_refused_and_every_other_conversation_is_delivered(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer], caplog: pytest.LogCaptureFixture
) -> None:
    bad = undeliverable(receiver)
    for conversation_id, url in bad.items():  # first in the log, so each sender meets one first
        append(store, conversation_id, whole(conversation_id, url))
    for conversation_id in ("good-1", "good-2"):
        append(store, conversation_id, whole(conversation_id, receiver.url(conversation_id)))
    deliverer = start(store, deliverers, senders=SENDERS)

    receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(store, c)) for c in ("good-1", "good-2")))
    refused = sum(len(told(store, c)) for c in bad)
    eventually(lambda: deliverer.stats().refused == refused)

    for conversation_id in ("good-1", "good-2"):
        assert ids(receiver.accepted(conversation_id)) == told(store, conversation_id)
    assert receiver.attempts("header") == []
    logged = refusals(caplog)
    assert len(logged) == refused
    for conversation_id in bad:
        first = told(store, conversation_id)[0]
        assert any(f"conversation {conversation_id} cannot take {first}:" in line for line in logged)
    assert any("host name cannot be encoded (IDNA)" in line for line in logged)
    assert not any(SECRET in r.getMessage() or "[::1" in r.getMessage() for r in caplog.records)


def test_refused_messages_stay_refused_after_a_restart_and_delivery_goes_on_for_everyone(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer], caplog: pytest.LogCaptureFixture
) -> None:
    bad = undeliverable(receiver)
    runs = {c: chat(started(c, url), agent_messages=2) for c, url in bad.items()}
    runs["good"] = chat(started("good", receiver.url("good")), agent_messages=2)
    for conversation_id, run in runs.items():
        append(store, conversation_id, run.events)
    first = start(store, deliverers, senders=SENDERS)
    receiver.wait_until(lambda r: len(r.accepted("good")) == len(told(store, "good")))
    eventually(lambda: first.stats().refused == sum(len(told(store, c)) for c in bad))
    first.stop()
    deliverers.remove(first)

    for conversation_id, run in runs.items():  # the hand-backs come after the restart
        already = len(run.events)
        append(store, conversation_id, hand_back(run).events[already:])
    append(store, "new", whole("new", receiver.url("new")))
    second = start(store, deliverers, senders=SENDERS)

    receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(store, c)) for c in ("good", "new")))
    assert ids(receiver.accepted("good")) == told(store, "good")
    assert ids(receiver.accepted("new")) == told(store, "new")
    # A conversation's messages go in order, so once its hand-back is refused, so is everything before it.
    eventually(lambda: all(any(f"cannot take {told(store, c)[-1]}:" in line for line in refusals(caplog)) for c in bad))
    assert second.stats().refused == 2 * len(bad)  # the AgentLeft and ReturnedToBot of each, nothing older
    for conversation_id in bad:
        for message_id in told(store, conversation_id):
            assert sum(f"cannot take {message_id}:" in line for line in refusals(caplog)) == 1


def test_an_unexpected_error_is_logged_with_its_conversation_and_retried(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer], caplog: pytest.LogCaptureFixture
) -> None:
    failures = iter([RuntimeError("the client registry is down")] * 3)

    def flaky_secret(client_id: str | None) -> str:
        error = next(failures, None)
        if error is not None:
            raise error
        return SECRET

    append(store, "unlucky", whole("unlucky", receiver.url("unlucky")))
    deliverer = start(store, deliverers, signing_secret=flaky_secret, senders=1)

    receiver.wait_until(lambda r: len(r.accepted("unlucky")) == len(told(store, "unlucky")))

    assert ids(receiver.accepted("unlucky")) == told(store, "unlucky")
    assert deliverer.stats().retries == 3
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3
    assert all("conversation unlucky" in r.getMessage() and "will retry" in r.getMessage() for r in errors)


def test_a_conversation_whose_transfer_cannot_be_read_is_skipped_and_the_ones_after_it_are_delivered(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer], caplog: pytest.LogCaptureFixture
) -> None:
    _, *rest = whole("future", receiver.url("future"))
    newer_schema = NewEvent("Transferred", b'{"type":"Transferred","v":99}')
    store.append(conversation_stream("future"), [newer_schema, *(NewEvent(event_type(e), encode(e)) for e in rest)], 0)
    append(store, "after", whole("after", receiver.url("after")))
    start(store, deliverers, senders=SENDERS)

    receiver.wait_until(lambda r: len(r.accepted("after")) == len(told(store, "after")))

    assert ids(receiver.accepted("after")) == told(store, "after")
    assert receiver.attempts("future") == []
    assert any("conversation future cannot be read (FutureSchemaVersion)" in r.getMessage() for r in caplog.records)


def test_a_line_logged_while_delivering_to_a_conversations_webhook_names_it(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer], capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure(logging.INFO, "json")
    append(store, "ipv6", whole("ipv6", "http://[::1"))
    deliverer = start(store, deliverers, senders=1)
    eventually(lambda: deliverer.stats().refused == len(told(store, "ipv6")))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    refused = [line for line in lines if "refused, not retried" in line["message"]]
    assert refused and {line["conversation_id"] for line in refused} == {"ipv6"}
