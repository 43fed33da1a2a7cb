"""Messages committed while the deliverer runs reach it in memory (the store's hand-off): posted
without a read of their stream; past what an outbox may hold, it reads its stream as before; and the
lag that backpressure uses counts due messages only, per API client."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from delivery import WebhookDeliverer
from delivery.handoff import Handoff
from store import EventStore, StoredEvent
from store.committed import CommittedBatch
from tests.delivery.conversations import append, append_one_by_one, chat, started, whole
from tests.delivery.deliverers import ids, start, told
from tests.delivery.polling import eventually
from tests.delivery.receiver import Receiver


class CountingStore(EventStore):
    """An EventStore that remembers every read of a stream the deliverer's threads make after its first
    event (the deliverer's look at `Transferred`, seq 1, is not one: it is made once per conversation)."""

    stream_reads: list[tuple[str, int, int | None]]

    def read_stream(self, stream: str, *, after_seq: int = 0, until_seq: int | None = None) -> list[StoredEvent]:
        if until_seq != 1 and threading.current_thread().name.startswith("delivery-"):
            self.stream_reads.append((stream, after_seq, until_seq))
        return super().read_stream(stream, after_seq=after_seq, until_seq=until_seq)


def counting_store(path: Path) -> CountingStore:
    store = CountingStore.open(path)
    assert isinstance(store, CountingStore)
    store.stream_reads = []
    return store


def test_messages_committed_while_it_runs_are_posted_without_a_read_of_their_stream(
    store_path: Path, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    with counting_store(store_path) as store:
        deliverer = start(store, deliverers)
        conversations = {c: whole(c, receiver.url(c), agent_messages=20) for c in ("a", "b")}
        append_one_by_one(store, conversations)

        receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(store, c)) for c in conversations))

        for conversation_id in conversations:
            assert ids(receiver.accepted(conversation_id)) == told(store, conversation_id)
        assert store.stream_reads == []
        assert deliverer.stats().stream_reads == 0
        deliverer.stop()


def test_past_what_an_outbox_holds_it_reads_its_stream_and_delivers_everything_once_in_order(
    store_path: Path, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    with counting_store(store_path) as store:
        deliverer = start(store, deliverers, held=3)
        receiver.hold_from(1)  # the first POST's answer waits: the outbox fills up behind it
        append_one_by_one(store, {"long": whole("long", receiver.url("long"), agent_messages=12)})
        receiver.wait_until(lambda r: len(r.requests) == 1)
        receiver.release()

        receiver.wait_until(lambda r: len(r.accepted("long")) == len(told(store, "long")))

        assert ids(receiver.accepted("long")) == told(store, "long")
        assert len(receiver.requests) == len(told(store, "long"))
        assert store.stream_reads != []
        assert deliverer.stats().stream_reads == len(store.stream_reads)
        deliverer.stop()


class Unfollowable:
    """An event log that hands its commits to no one (it has no `follow`), as another kind of log may not."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name in ("follow", "unfollow"):
            raise AttributeError(name)
        return getattr(self._store, name)


def test_a_log_that_hands_nothing_is_read_as_it_grows_and_everything_arrives_once_in_order(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    deliverer = start(Unfollowable(store), deliverers)  # type: ignore[arg-type]
    conversations = {c: whole(c, receiver.url(c), agent_messages=5) for c in ("a", "b")}
    append_one_by_one(store, conversations)

    receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(store, c)) for c in conversations))

    for conversation_id in conversations:
        assert ids(receiver.accepted(conversation_id)) == told(store, conversation_id)
    assert len(receiver.requests) == sum(len(told(store, c)) for c in conversations)
    assert deliverer.stats().log_reads > 0


class DroppingHandoff(Handoff):
    """Drops every other batch, as the hand-off does when the tail is too far behind."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def __call__(self, batch: CommittedBatch) -> None:
        self.seen += 1
        if self.seen % 2:
            super().__call__(batch)


def test_batches_the_hand_off_dropped_are_read_from_the_log_and_everything_arrives_once_in_order(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("delivery.webhook.Handoff", DroppingHandoff)
    deliverer = start(store, deliverers)
    conversations = {c: whole(c, receiver.url(c), agent_messages=8) for c in ("a", "b")}
    append_one_by_one(store, conversations)

    receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(store, c)) for c in conversations))

    for conversation_id in conversations:
        assert ids(receiver.accepted(conversation_id)) == told(store, conversation_id)
    assert len(receiver.requests) == sum(len(told(store, c)) for c in conversations)
    assert deliverer.stats().log_reads > 0


def test_the_lag_counts_a_slow_webhook_s_client_and_not_a_failing_one_s(
    store: EventStore, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    slow = Receiver().start()
    try:
        slow.hold_from(1)
        receiver.fail("failing", times=1_000_000)
        later = 1000.0  # the deliverer's clock runs this far ahead of the store's: due messages look that old
        deliverer = start(store, deliverers, clock=lambda: time.time() + later, lag_refresh=0.0)
        append(store, "slow", chat(started("slow", slow.url("slow"), client_id="bot-slow"), agent_messages=3).events)
        append(store, "failing", whole("failing", receiver.url("failing"), client_id="bot-failing"))

        slow.wait_until(lambda r: len(r.requests) == 1)
        receiver.wait_until(lambda r: len(r.attempts("failing")) >= 3)  # backing off between attempts

        assert deliverer.lag("bot-slow") >= later
        assert deliverer.lag("bot-failing") == 0.0
        assert deliverer.lag("bot-without-conversations") == 0.0

        slow.release()
        receiver.heal("failing")
        receiver.wait_until(lambda r: len(r.accepted("failing")) == len(told(store, "failing")))
        slow.wait_until(lambda r: len(r.accepted("slow")) == len(told(store, "slow")))
        eventually(lambda: deliverer.lag("bot-slow") == 0.0)  # all delivered, the conversation goes on
    finally:
        slow.stop()


def test_after_a_restart_what_was_committed_meanwhile_is_read_and_what_comes_next_is_handed(
    store_path: Path, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    with counting_store(store_path) as store:
        events = whole("c", receiver.url("c"), agent_messages=6)
        append(store, "c", events[:8])
        first = start(store, deliverers)
        receiver.wait_until(lambda r: len(r.accepted("c")) == len(told(store, "c")))
        first.stop()
        append(store, "c", events[8:11])  # while no deliverer runs: owed by its checkpoint row

        second = start(store, deliverers)
        receiver.wait_until(lambda r: len(r.accepted("c")) == len(told(store, "c")))
        reads_after_restart = list(store.stream_reads)
        append(store, "c", events[11:])
        receiver.wait_until(lambda r: len(r.accepted("c")) == len(told(store, "c")))

        assert ids(receiver.accepted("c")) == told(store, "c")
        assert len(receiver.requests) == len(told(store, "c"))
        assert [(stream, until) for stream, _, until in reads_after_restart] == [("conversation-c", 11)]
        assert store.stream_reads == reads_after_restart
        second.stop()
