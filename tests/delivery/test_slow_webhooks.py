"""A bot's slow webhook holds up only that bot's own messages, and never the deliverer's stop."""

from __future__ import annotations

import threading

from delivery import WebhookDeliverer
from delivery.webhook import ANSWER_BYTES
from store import EventStore
from tests.delivery.conversations import append, whole
from tests.delivery.deliverers import ids, start, told, wait_until_delivered_in_order
from tests.delivery.receiver import Receiver

STALLED = [f"slow-{n}" for n in range(5)]


def test_a_bot_whose_webhook_stalls_holds_up_none_of_another_bots_messages(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    for conversation_id in STALLED:
        receiver.stall(conversation_id)
        append(store, conversation_id, whole(conversation_id, receiver.url(conversation_id), client_id="cl-slow"))
    # More stalled conversations than senders: without a limit per bot, the slow bot would hold them all.
    start(store, deliverers, senders=4, per_client=2)
    receiver.wait_until(lambda r: len(r.requests) == 2)
    append(store, "quick", whole("quick", receiver.url("quick"), client_id="cl-quick"))

    receiver.wait_until(lambda r: len(r.accepted("quick")) == len(told(store, "quick")))

    assert ids(receiver.accepted("quick")) == told(store, "quick")
    assert sum(len(receiver.attempts(c)) for c in STALLED) == 2  # its two turns, still waiting for answers
    receiver.release()
    wait_until_delivered_in_order(store, receiver, STALLED)


def test_stop_leaves_a_post_whose_answer_never_ends_and_the_next_start_posts_it_again(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    receiver.drip("drip")
    append(store, "drip", whole("drip", receiver.url("drip"), agent_messages=1))
    deliverer = start(store, deliverers, timeout=0.5)
    receiver.wait_until(lambda r: len(r.attempts("drip")) == 1)
    first = receiver.attempts("drip")[0].message["Id"]

    stopping = threading.Thread(target=deliverer.stop)
    stopping.start()
    stopping.join(timeout=30)  # a bound for a hang, not a measurement: the stop waits 0.5 s

    assert not stopping.is_alive()
    deliverers.remove(deliverer)
    receiver.release()
    start(store, deliverers)
    receiver.wait_until(lambda r: len(r.attempts("drip")) == 1 + len(told(store, "drip")))
    # The dripped POST, then every message in order, the first again under the same id.
    assert ids(receiver.attempts("drip")) == [first, *told(store, "drip")]


def test_a_webhook_answering_more_than_the_service_keeps_is_cut_short_and_still_delivered(
    store: EventStore, kept_alive_receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    receiver = kept_alive_receiver
    receiver.answer_with("big", b"x" * (ANSWER_BYTES * 4))  # what a bot's webhook answers is not held whole
    append(store, "big", whole("big", receiver.url("big"), agent_messages=2))
    start(store, deliverers)

    wait_until_delivered_in_order(store, receiver, ["big"])

    # Each answer was read up to the limit and its connection closed, not read to its end and kept.
    assert receiver.connections == len(receiver.requests)
