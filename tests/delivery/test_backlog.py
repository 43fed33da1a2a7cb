"""The webhook backlog per API client and the deliverer's lag, read from the store's file as
`run.py status` and the metrics read them: while a webhook is down, after it heals, and with no
deliverer at all."""

from __future__ import annotations

from delivery import WebhookDeliverer, is_for_the_bot
from delivery.backlog import ClientBacklog, DeliveryBacklog
from store import EventStore, NewEvent
from tests.delivery.conversations import append, append_one_by_one, chat, hand_back, started, whole
from tests.delivery.deliverers import start, told
from tests.delivery.polling import eventually
from tests.delivery.receiver import Receiver


def test_a_store_no_deliverer_ran_on_has_no_lag_and_no_backlog(store: EventStore) -> None:
    append_one_by_one(store, {"c-1": whole("c-1", "http://127.0.0.1:9/bot/c-1", client_id="cl-a")})
    reader = DeliveryBacklog(store.path)
    try:
        figures = reader.figures()
    finally:
        reader.close()

    assert (figures.lag, figures.backlog) == (None, [])


def test_messages_a_down_webhook_has_not_taken_are_its_clients_backlog_until_it_heals(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    receiver.fail("down-1", times=1_000_000)
    receiver.fail("down-2", times=1_000_000)
    append_one_by_one(store, {
        "down-1": whole("down-1", receiver.url("down-1"), client_id="cl-a"),
        "down-2": whole("down-2", receiver.url("down-2"), client_id="cl-a"),
        "up": whole("up", receiver.url("up"), client_id="cl-b"),
        "pull": whole("pull", "", client_id="cl-c"),  # pull only: never owed by the webhook
    })
    start(store, deliverers)
    reader = DeliveryBacklog(store.path)
    try:
        # "up" is owed nothing once its last message is recorded as delivered, a moment after its POST.
        eventually(lambda: [b.client_id for b in reader.figures().backlog] == ["cl-a"])

        figures = reader.figures()
        assert figures.lag == 0
        [waiting] = figures.backlog
        owed = len(told(store, "down-1")) + len(told(store, "down-2"))
        assert (waiting.client_id, waiting.conversations, waiting.messages) == ("cl-a", 2, owed)
        first = next(stored for stored in store.read_stream("conversation-down-1") if is_for_the_bot(stored))
        assert waiting.oldest_at == first.recorded_at

        receiver.heal("down-1")
        receiver.heal("down-2")
        eventually(lambda: reader.figures().backlog == [])
    finally:
        reader.close()


def test_the_lag_is_what_the_tail_has_not_scanned(store: EventStore) -> None:
    start_position = store.append("worker-w", [NewEvent("WorkerCreated", b"{}")], 0)
    assert start_position == 1
    # A deliverer that ran and stopped: its tail scanned the log up to then.
    deliverer = WebhookDeliverer(store, signing_secret=lambda client_id: None)
    deliverer.start()
    eventually(lambda: DeliveryBacklog(store.path).figures().lag == 0)
    deliverer.stop()
    store.append("worker-w", [NewEvent("WorkerUpdated", b"{}"), NewEvent("WorkerUpdated", b"{}")], 1)

    reader = DeliveryBacklog(store.path)
    try:
        assert reader.figures().lag == 2
    finally:
        reader.close()


def test_conversations_from_before_clients_are_counted_as_no_clients(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    receiver.fail("old", times=1_000_000)
    append_one_by_one(store, {"old": whole("old", receiver.url("old"), client_id=None)})
    start(store, deliverers)
    reader = DeliveryBacklog(store.path)
    try:
        eventually(lambda: reader.figures().backlog != [])
        [waiting] = reader.figures().backlog
    finally:
        reader.close()

    assert waiting == ClientBacklog(
        client_id=None, conversations=1, messages=len(told(store, "old")), oldest_at=waiting.oldest_at
    )


def test_only_what_came_after_the_last_delivery_is_owed(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    run = chat(started("c-1", receiver.url("c-1"), client_id="cl-a"), agent_messages=2)
    append(store, "c-1", run.events)
    start(store, deliverers)
    reader = DeliveryBacklog(store.path)
    try:
        receiver.wait_until(lambda r: len(r.accepted("c-1")) == len(told(store, "c-1")))
        eventually(lambda: reader.figures().backlog == [])
        receiver.fail("c-1", times=1_000_000)
        delivered = len(run.events)
        append(store, "c-1", hand_back(run).events[delivered:])  # AgentLeft, then ReturnedToBot

        eventually(lambda: reader.figures().backlog != [])
        [waiting] = reader.figures().backlog
    finally:
        reader.close()

    assert (waiting.conversations, waiting.messages) == (1, 2)
