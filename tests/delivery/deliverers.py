"""What the webhook tests share: a signing secret, a quick backoff, starting deliverers that the
`deliverers` fixture (conftest.py) stops, and the ids the bot should be told."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from delivery import WebhookDeliverer, is_for_the_bot
from retry import Backoff
from store import EventStore
from store.conversations import conversation_stream
from tests.delivery.receiver import Receiver

# The Standard Webhooks specification's test key; also its known-answer vector's (test_signature.py).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
QUICK = Backoff(first=0.001, cap=0.01)


def start(store: EventStore, deliverers: list[WebhookDeliverer], **options: Any) -> WebhookDeliverer:
    """A started deliverer with SECRET for every client and QUICK retries, unless `options` say otherwise."""
    deliverer = WebhookDeliverer(store, **{"signing_secret": lambda client_id: SECRET, "backoff": QUICK, **options})
    deliverer.start()
    deliverers.append(deliverer)
    return deliverer


def told(store: EventStore, conversation_id: str) -> list[str]:
    """The webhook Ids the bot is owed for the conversation, in order."""
    return [f"{conversation_id}:{s.seq}" for s in store.read_stream(conversation_stream(conversation_id)) if is_for_the_bot(s)]


def ids(received: list) -> list[str]:
    return [r.message["Id"] for r in received]


def wait_until_delivered_in_order(store: EventStore, receiver: Receiver, conversation_ids: Iterable[str]) -> None:
    """Wait until the receiver accepted every message each conversation is owed; check they came in order."""
    conversation_ids = list(conversation_ids)
    receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(store, c)) for c in conversation_ids))
    for conversation_id in conversation_ids:
        assert ids(receiver.accepted(conversation_id)) == told(store, conversation_id)
