"""Live conversations by worker and region, counted from a real store: in full the first time, then
from what was appended since, always agreeing with a count in full."""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from events import encode, event_type
from events.commands import ChatEndedReceived, SwitchRegion
from events.conversation_events import ConnectTarget
from connect_client import RegionClients, static_session
from service import WorkerService
from service.live_counts import LiveCount, LiveCounts
from store import EventStore, NewEvent
from store.conversations import conversation_stream, fold_live, load_conversation
from tests.delivery.conversations import append, started
from tests.events.scenario import FAILOVER, PRIMARY, Run, transfer


def transferred(
    store: EventStore, conversation_id: str, worker_id: str = "worker-1", target: ConnectTarget = PRIMARY
) -> Run:
    run = Run(conversation_id)
    run(replace(transfer(0.0, target=target), worker_id=worker_id))
    append(store, conversation_id, run.events)
    return run


def ended(store: EventStore, run: Run) -> None:
    """Its chat ends: the stream closes, as the actor closes it."""
    stream = conversation_stream(run.state.conversation_id)
    new = run(ChatEndedReceived(at=9.0, message_id="ended"))
    store.append(stream, [NewEvent(event_type(e), encode(e)) for e in new], store.stream_version(stream), closes_stream=True)


def test_conversations_are_counted_by_worker_and_region_as_they_come_move_and_end(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        counts = LiveCounts(store)
        assert counts.count() == []

        transferred(store, "a-1")
        moving = transferred(store, "a-2")
        transferred(store, "b-1", worker_id="worker-2", target=FAILOVER)
        assert counts.count() == [
            LiveCount("worker-1", "us-east-1", 2),
            LiveCount("worker-2", "us-west-2", 1),
        ]

        switched = moving(SwitchRegion(at=5.0, target=FAILOVER, order=1, mode="move"))
        append(store, "a-2", switched)
        finishing = started("a-3", "https://bot.example/hook")
        append(store, "a-3", finishing.events)
        assert counts.count() == [
            LiveCount("worker-1", "us-east-1", 2),
            LiveCount("worker-1", "us-west-2", 1),
            LiveCount("worker-2", "us-west-2", 1),
        ]

        ended(store, finishing)
        assert counts.count() == [
            LiveCount("worker-1", "us-east-1", 1),
            LiveCount("worker-1", "us-west-2", 1),
            LiveCount("worker-2", "us-west-2", 1),
        ]
        assert counts.count() == LiveCounts(store).count()


def test_a_first_count_of_a_store_with_history_folds_only_the_live_conversations(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        for n in range(3):
            run = started(f"old-{n}", "https://bot.example/hook")
            append(store, f"old-{n}", run.events)
            ended(store, run)
        transferred(store, "live-1")

        assert LiveCounts(store).count() == [LiveCount("worker-1", "us-east-1", 1)]


def test_many_events_since_the_last_count_are_read_page_after_page(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        counts = LiveCounts(store)
        runs = [transferred(store, f"c-{n}") for n in range(600)]
        assert counts.count() == [LiveCount("worker-1", "us-east-1", 600)]
        for n in range(600):
            transferred(store, f"d-{n}", worker_id="worker-2")
        for n, run in enumerate(runs):
            append(store, f"c-{n}", run(SwitchRegion(at=5.0, target=FAILOVER, order=1, mode="move")))

        assert counts.count() == [LiveCount("worker-1", "us-west-2", 600), LiveCount("worker-2", "us-east-1", 600)]


def retained(make: Callable[[], Any]) -> tuple[Any, int]:
    """What `make` returns, and the bytes of Python memory it allocated that are still held once it has returned."""
    gc.freeze()  # the collection below then looks at what `make` made only, quickly
    tracemalloc.start()
    try:
        made = make()
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.unfreeze()
    return made, held


def counted(store: EventStore) -> LiveCounts:
    counts = LiveCounts(store)
    counts.count()
    return counts


def test_the_counts_keep_no_second_copy_of_a_long_chats_seen_ids(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        run = started("long", "https://bot.example/hook")
        run.with_agent()
        for n in range(2_000):
            run.agent_says(f"answer {n}", at=3.0 + n, message_id=str(uuid.UUID(int=n + 1)))
        append(store, "long", run.events)
        counted(store)  # the store's own first-read allocations, out of the way

        full, held_by_a_fold = retained(lambda: load_conversation(store, "long"))
        counts, held_by_the_counts = retained(lambda: counted(store))

        assert len(full.seen_connect_ids) == 2_001  # the agent's joining too
        assert counts.count() == [LiveCount("worker-1", "us-east-1", 1)]
        # The full state holds 2,001 ids (21 bytes each, packed); the counts' state the rest only.
        assert held_by_the_counts < held_by_a_fold / 3, (held_by_the_counts, held_by_a_fold)


class _StreamsRead:
    """The store, counting the streams read one by one (a fold reads each live conversation's)."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.streams_read = 0

    def read_stream(self, *args: Any, **kwargs: Any) -> Any:
        self.streams_read += 1
        return self._store.read_stream(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_first_count_given_a_fold_folds_nothing_again_and_reads_what_came_after_it(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        transferred(store, "a-1")
        leaving = started("a-2", "https://bot.example/hook")
        append(store, "a-2", leaving.events)
        folded = fold_live(store)
        transferred(store, "b-1", worker_id="worker-2", target=FAILOVER)  # after the fold: read from the log
        ended(store, leaving)
        spy = _StreamsRead(store)

        counts = LiveCounts(spy, first=lambda: folded)  # type: ignore[arg-type]

        assert counts.count() == LiveCounts(store).count() == [
            LiveCount("worker-1", "us-east-1", 1),
            LiveCount("worker-2", "us-west-2", 1),
        ]
        assert spy.streams_read == 0


def test_the_status_writers_first_count_takes_the_fold_recovery_made(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        for conversation_id in ("c-1", "c-2"):
            run = Run(conversation_id).connected().with_agent()
            append(store, conversation_id, run.events)
        gone = started("gone", "https://bot.example/hook")
        append(store, "gone", gone.events)
        ended(store, gone)
        service = WorkerService(
            store, lambda region, secret: RegionClients.create(region, endpoint_url="http://127.0.0.1:9", session=static_session())
        )
        try:
            service.start()
            spy = _StreamsRead(store)
            counts = LiveCounts(spy, first=lambda: service.take_live_fold(10.0))  # type: ignore[arg-type]

            assert counts.count() == LiveCounts(store).count() == [LiveCount("worker-1", "us-east-1", 2)]
            assert spy.streams_read == 0
            assert service.take_live_fold(0.0) is None  # given once: the service holds it no longer
        finally:
            service.stop()
