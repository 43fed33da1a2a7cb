from __future__ import annotations

import base64
import socket
import threading

import pytest

from standardwebhooks import Webhook

from delivery import ID_HEADER, WebhookDeliverer
from delivery.checkpoint import Checkpoints
from store import EventStore
from store.conversations import conversation_stream
from tests.delivery.deliverers import SECRET, ids, start, told, wait_until_delivered_in_order
from tests.delivery.conversations import append, append_one_by_one, chat, hand_back, started, whole
from tests.delivery.polling import eventually
from tests.delivery.receiver import Receiver
from tests.events.scenario import TOKEN



def test_each_message_arrives_once_in_order_signed_and_without_tokens(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    conversations = {c: whole(c, receiver.url(c), agent_messages=5) for c in ("a", "b", "c")}
    append_one_by_one(store, conversations)
    start(store, deliverers)

    receiver.wait_until(lambda r: all(len(r.accepted(c)) >= len(told(store, c)) for c in conversations))

    for conversation_id in conversations:
        assert ids(receiver.accepted(conversation_id)) == told(store, conversation_id)
    for received in receiver.requests:
        assert received.headers[ID_HEADER] == received.message["Id"]
        assert Webhook(SECRET).verify(received.body, received.headers) == received.message
        assert TOKEN.encode() not in received.body
    assert len(receiver.requests) == 3 * (5 + 5)  # 5 agent messages and 5 others each
    eventually(lambda: deliverers[0].stats().delivered == len(receiver.requests))


def test_posts_to_one_webhook_host_reuse_kept_alive_connections(
    store: EventStore, kept_alive_receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    receiver = kept_alive_receiver
    conversations = {c: whole(c, receiver.url(c), agent_messages=5) for c in ("a", "b", "c")}
    append_one_by_one(store, conversations)
    start(store, deliverers, senders=2)

    receiver.wait_until(lambda r: all(len(r.accepted(c)) >= len(told(store, c)) for c in conversations))

    assert len(receiver.requests) == 3 * (5 + 5)
    assert receiver.connections <= 2  # at most one per sender, not one per POST


def test_a_webhook_url_with_user_info_is_posted_with_basic_authentication(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    url = receiver.url("basic").replace("http://", "http://bot:s3cret@")
    append(store, "basic", whole("basic", url, agent_messages=2))
    start(store, deliverers)

    receiver.wait_until(lambda r: len(r.accepted("basic")) == len(told(store, "basic")))

    expected = "Basic " + base64.b64encode(b"bot:s3cret").decode()
    assert {received.headers.get("authorization") for received in receiver.requests} == {expected}


def test_messages_appended_while_running_are_delivered_and_pull_only_conversations_are_not_posted(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    start(store, deliverers)
    append(store, "pull-only", whole("pull-only", "", agent_messages=2))
    append(store, "live", whole("live", receiver.url("live"), agent_messages=2))

    receiver.wait_until(lambda r: len(r.accepted("live")) == len(told(store, "live")))

    assert ids(receiver.accepted("live")) == told(store, "live")
    assert receiver.attempts("pull-only") == []


def test_a_failing_webhook_is_retried_without_holding_back_the_others(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    receiver.fail("down", times=1_000_000)
    append_one_by_one(store, {c: whole(c, receiver.url(c)) for c in ("down", "up")})
    start(store, deliverers, senders=1)

    receiver.wait_until(lambda r: len(r.accepted("up")) == len(told(store, "up")) and len(r.attempts("down")) >= 3)
    assert receiver.accepted("down") == []
    first = receiver.attempts("down")[0].message["Id"]
    assert set(ids(receiver.attempts("down"))) == {first}

    receiver.heal("down")
    receiver.wait_until(lambda r: len(r.accepted("down")) == len(told(store, "down")))
    assert ids(receiver.accepted("down")) == told(store, "down")
    assert deliverers[0].stats().retries >= 3


def test_a_webhook_failing_three_times_then_succeeding_gets_the_message(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    receiver.fail("flaky", times=3, status=503)
    append(store, "flaky", whole("flaky", receiver.url("flaky")))
    start(store, deliverers)

    receiver.wait_until(lambda r: len(r.accepted("flaky")) == len(told(store, "flaky")))

    first = told(store, "flaky")[0]
    assert ids(receiver.attempts("flaky")) == [first] * 4 + told(store, "flaky")[1:]
    assert deliverers[0].stats().retries == 3


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_permanent_refusal_is_not_retried_and_the_conversation_goes_on(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer], status: int
) -> None:
    receiver.fail("gone", times=2, status=status)
    append(store, "gone", whole("gone", receiver.url("gone")))
    start(store, deliverers)

    expected = told(store, "gone")
    receiver.wait_until(lambda r: len(r.attempts("gone")) == len(expected))

    assert ids(receiver.attempts("gone")) == expected
    assert [r.status for r in receiver.attempts("gone")][:2] == [status, status]
    assert deliverers[0].stats().refused == 2


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_request_timeout_throttling_and_server_error_answers_are_retried(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer], status: int
) -> None:
    receiver.fail("busy", times=1, status=status)
    append(store, "busy", whole("busy", receiver.url("busy")))
    start(store, deliverers)

    receiver.wait_until(lambda r: len(r.accepted("busy")) == len(told(store, "busy")))

    first = told(store, "busy")[0]
    assert ids(receiver.attempts("busy")) == [first, *told(store, "busy")]  # the first one twice
    assert ids(receiver.accepted("busy")) == told(store, "busy")


def test_a_webhook_that_answers_after_the_timeout_gets_the_message_again_until_it_answers_in_time(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    receiver.hold("slow", times=2)  # each held until the deliverer, having given up, sends the message again
    append(store, "slow", whole("slow", receiver.url("slow")))
    deliverer = start(store, deliverers, timeout=0.5)

    receiver.wait_until(lambda r: len(r.accepted("slow")) == len(told(store, "slow")))

    first = told(store, "slow")[0]
    assert ids(receiver.attempts("slow")[:3]) == [first, first, first]  # twice too late, then in time
    assert ids(receiver.accepted("slow")) == told(store, "slow")
    assert deliverer.stats().retries >= 2


def test_a_refused_connection_is_retried(store: EventStore, deliverers: list[WebhookDeliverer]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    append(store, "nobody", whole("nobody", f"http://127.0.0.1:{closed_port}/bot/nobody"))
    deliverer = start(store, deliverers, senders=1)

    eventually(lambda: deliverer.stats().retries >= 3)
    assert deliverer.stats().delivered == 0


def test_after_a_stop_delivery_resumes_from_the_checkpoint_without_gaps_or_duplicates(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    runs = {c: chat(started(c, receiver.url(c)), agent_messages=30) for c in ("p", "q")}
    append_one_by_one(store, {c: run.events for c, run in runs.items()})
    first = start(store, deliverers, senders=2)
    receiver.wait_until(lambda r: len(r.accepted()) >= 10)
    first.stop()
    deliverers.remove(first)

    for conversation_id, run in runs.items():
        append(store, conversation_id, run.events[-1:] and hand_back(run).events[-3:])
    start(store, deliverers, senders=2)

    wait_until_delivered_in_order(store, receiver, runs)


def test_a_long_conversation_is_delivered_whole_in_order(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    append(store, "long", whole("long", receiver.url("long"), agent_messages=150))
    assert store.stream_version(conversation_stream("long")) > 600  # several batches read from the stream
    start(store, deliverers)

    receiver.wait_until(lambda r: len(r.accepted("long")) == len(told(store, "long")))

    assert ids(receiver.accepted("long")) == told(store, "long")


class StandingClock:
    """Monotonic time that never moves: the tail's once-a-second record never falls due."""

    def monotonic(self) -> float:
        return 0.0

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        condition.wait(timeout)


def test_the_tail_is_recorded_once_a_second_and_on_stop_not_after_every_page(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    run = whole("r", receiver.url("r"))
    append_one_by_one(store, {"r": run})
    deliverer = start(store, deliverers, retry_clock=StandingClock())
    receiver.wait_until(lambda r: len(r.accepted("r")) == len(told(store, "r")))
    checkpoints = Checkpoints(store.path)
    try:
        # Everything was read and delivered, but the second is not up: the tail is where it started.
        assert checkpoints.tail_position() == 0
        deliverer.stop()
        deliverers.remove(deliverer)
        assert checkpoints.tail_position() == store.last_position()
        assert checkpoints.owed() == []  # handed back: the row the tail wrote says so
    finally:
        checkpoints.close()
