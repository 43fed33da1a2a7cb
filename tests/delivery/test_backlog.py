"""The webhook backlog per API client and the deliverer's lag, as `run.py status` and the metrics read
them: while a webhook is down, after it heals, and with no deliverer at all; on each log, the SQLite
file's and a DynamoDB table (moto's server), whose events are not in the file that keeps the
deliverer's tail and checkpoints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from delivery import WebhookDeliverer, is_for_the_bot
from delivery.backlog import ClientBacklog, DeliveryBacklog, DeliveryFigures
from store import EventStore, NewEvent
from store.event_log import EventLog
from tests.support.dynamodb import fresh_table, open_dynamo_store
from tests.delivery.conversations import append, append_one_by_one, chat, hand_back, started, whole
from tests.delivery.deliverers import start, told
from tests.delivery.polling import eventually
from tests.delivery.receiver import Receiver


@pytest.fixture(params=["sqlite", "dynamodb"])
def log(request: pytest.FixtureRequest, store_path: Path) -> Iterator[EventLog]:
    """The log on each backend, its deliverer's tail and checkpoints in the file at `store_path` (the tests
    with many appends run on `store`, the file's log, only: moto takes one request at a time)."""
    if request.param == "sqlite":
        with EventStore.open(store_path) as log:
            yield log
        return
    endpoint_url = request.getfixturevalue("dynamodb_endpoint")
    request.getfixturevalue("dynamodb_credentials")
    with open_dynamo_store(endpoint_url, fresh_table(endpoint_url), store_path) as log:
        yield log


def test_a_store_no_deliverer_ran_on_has_no_lag_and_no_backlog(log: EventLog) -> None:
    append(log, "c-1", whole("c-1", "http://127.0.0.1:9/bot/c-1", client_id="cl-a"))
    reader = DeliveryBacklog(log)
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
    reader = DeliveryBacklog(store)
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


def test_the_lag_is_what_the_tail_has_not_scanned(log: EventLog) -> None:
    start_position = log.append("worker-w", [NewEvent("WorkerCreated", b"{}")], 0)
    assert start_position == 1
    # A deliverer that ran and stopped: its tail scanned the log up to then.
    deliverer = WebhookDeliverer(log, signing_secret=lambda client_id: None)
    deliverer.start()
    eventually(lambda: _once(log).lag == 0)
    deliverer.stop()
    log.append("worker-w", [NewEvent("WorkerUpdated", b"{}"), NewEvent("WorkerUpdated", b"{}")], 1)

    reader = DeliveryBacklog(log)
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
    reader = DeliveryBacklog(store)
    try:
        eventually(lambda: reader.figures().backlog != [])
        [waiting] = reader.figures().backlog
    finally:
        reader.close()

    assert waiting == ClientBacklog(
        client_id=None, conversations=1, messages=len(told(store, "old")), oldest_at=waiting.oldest_at
    )


def test_only_what_came_after_the_last_delivery_is_owed(
    log: EventLog, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    run = chat(started("c-1", receiver.url("c-1"), client_id="cl-a"), agent_messages=2)
    append(log, "c-1", run.events)
    start(log, deliverers)
    reader = DeliveryBacklog(log)
    try:
        receiver.wait_until(lambda r: len(r.accepted("c-1")) == len(told(log, "c-1")))
        eventually(lambda: reader.figures().backlog == [])
        receiver.fail("c-1", times=1_000_000)
        delivered = len(run.events)
        append(log, "c-1", hand_back(run).events[delivered:])  # AgentLeft, then ReturnedToBot

        eventually(lambda: reader.figures().backlog != [])
        [waiting] = reader.figures().backlog
    finally:
        reader.close()

    assert (waiting.conversations, waiting.messages) == (1, 2)


def test_messages_waiting_when_the_reader_starts_are_counted_then_followed_until_delivered(
    log: EventLog, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    receiver.fail("c-1", times=1_000_000)
    run = chat(started("c-1", receiver.url("c-1"), client_id="cl-a"), agent_messages=2)
    append(log, "c-1", run.events)
    start(log, deliverers)
    owed = len(told(log, "c-1"))
    eventually(lambda: _counts(_once(log)) == (0, owed), timeout=20)  # the tail has seen them

    reader = DeliveryBacklog(log)
    try:
        assert _counts(reader.figures()) == (0, owed)  # read from the conversation's stream
        appended = len(run.events)
        append(log, "c-1", hand_back(run).events[appended:])  # AgentLeft, then ReturnedToBot
        eventually(lambda: _counts(reader.figures())[1] == owed + 2)  # followed in the log
        [waiting] = reader.figures().backlog
        first = next(stored for stored in log.read_stream("conversation-c-1") if is_for_the_bot(stored))
        assert (waiting.client_id, waiting.conversations, waiting.oldest_at) == ("cl-a", 1, first.recorded_at)

        receiver.heal("c-1")
        eventually(lambda: reader.figures().backlog == [], timeout=20)  # delivered and handed back
    finally:
        reader.close()


def _once(log: EventLog) -> DeliveryFigures:
    reader = DeliveryBacklog(log)
    try:
        return reader.figures()
    finally:
        reader.close()


def _counts(figures: DeliveryFigures) -> tuple[int | None, int]:
    """The lag and the messages waiting."""
    return figures.lag, sum(waiting.messages for waiting in figures.backlog)
