"""Benchmark of the event store, run by hand; it prints its figures and writes them as JSON.

    .venv/bin/python bench/store.py                   # the full run: 1,000,000 events
    .venv/bin/python bench/store.py --events 100000   # a quick run
    .venv/bin/python bench/store.py --parts appends --writers 1000   # appends, 1,000 writers only

Measures, in one run on this machine and with the same durability
(WAL, synchronous=FULL) everywhere:

- appends per second and p50/p99 acknowledgement latency with 1, 100 and
  1,000 concurrent writers, for our store, for a plain sqlite3 writer thread
  batching from a queue (the ceiling group commit can reach in Python), the
  same writer waking its callers in a chain as ours does, and for the
  `eventsourcing` library's SQLite recorder;
- p99 acknowledgement latency at a steady 10,000 events per second;
- replay over `--events` conversation events in `--streams` streams: read
  and decode, against read, decode and fold with the real `evolve`, and
  reading and decoding the same events from the `eventsourcing` recorder;
- `--parts dynamodb`: the DynamoDB store against moto's server on loopback beside
  ours on SQLite, interleaved: appends with 1 and 10 writers, two nodes (stores)
  appending to one table at once, and replay (per stream, and the global order
  page by page) of `--dynamo-events` events. Moto is not AWS: the ratios say
  what the store's own work costs, not what DynamoDB's round trips will.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventsourcing.persistence import StoredEvent as LibraryStoredEvent  # noqa: E402
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore  # noqa: E402

from events import (  # noqa: E402
    decide,
    decode,
    encode,
    event_type,
    evolve,
    initial_state,
    pending_effects,
)
from events.commands import (  # noqa: E402
    ChatStartSucceeded,
    Command,
    ConnectionEstablished,
    ConnectMessageReceived,
    ParticipantJoinedReceived,
    Transfer,
    UserMessageAcknowledged,
    UserSays,
)
from events.conversation_events import (  # noqa: E402
    AutoDisconnectRule,
    ConnectTarget,
    ConversationEvent,
)
from store import EventStore, NewEvent  # noqa: E402
from store.dynamo_event_store import DynamoEventStore  # noqa: E402
from tests.support.dynamodb import DUMMY_CREDENTIALS, REGION, fresh_table, moto_server, open_dynamo_store  # noqa: E402

OUT = Path(__file__).with_name("out")
WRITER_COUNTS = (1, 100, 1000)


class Appender(Protocol):
    """One store under test, appending one event to a stream at a known version."""

    def append(self, stream: str, version: int, data: bytes) -> None: ...

    def close(self) -> None: ...


class OurStore:
    name = "ours"

    def __init__(self, path: Path) -> None:
        self.store = EventStore.open(path)

    def append(self, stream: str, version: int, data: bytes) -> None:
        self.store.append(stream, [NewEvent("AgentMessage", data)], version)

    def close(self) -> None:
        self.store.close()


class RawGroupCommit:
    """The baseline: a plain sqlite3 writer thread committing whatever is queued, no checks."""

    name = "raw sqlite3"

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(
            "CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL,"
            " seq INTEGER NOT NULL, type TEXT NOT NULL, data BLOB NOT NULL,"
            " recorded_at REAL NOT NULL) STRICT"
        )
        self.conn.execute("CREATE UNIQUE INDEX events_stream_seq ON events (stream, seq)")
        self.queue: queue.SimpleQueue[tuple[tuple[str, int, str, bytes, float], threading.Lock] | None] = (
            queue.SimpleQueue()
        )
        self.thread = threading.Thread(target=self._write)
        self.thread.start()

    def append(self, stream: str, version: int, data: bytes) -> None:
        done = threading.Lock()
        done.acquire()
        self.queue.put(((stream, version + 1, "AgentMessage", data, time.time()), done))
        done.acquire()

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self.conn.close()

    def _write(self) -> None:
        while (item := self.queue.get()) is not None:
            batch = [item]
            stopping = False
            while True:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self.conn.execute("BEGIN")
            self.conn.executemany(
                "INSERT INTO events (stream, seq, type, data, recorded_at) VALUES (?, ?, ?, ?, ?)",
                [row for row, _ in batch],
            )
            self.conn.execute("COMMIT")
            self._wake([done for _, done in batch])
            if stopping:
                return

    def _wake(self, waiting: list[threading.Lock]) -> None:
        for done in waiting:
            done.release()


class RawChainedGroupCommit(RawGroupCommit):
    """The same raw writer, waking its callers in a chain as ours does: it wakes the first caller
    of a batch, and each caller woken wakes the next. Ours against this one is the cost of our
    checks and bookkeeping alone, the hand-off being the same."""

    name = "raw chained"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.after: dict[threading.Lock, threading.Lock] = {}

    def append(self, stream: str, version: int, data: bytes) -> None:
        done = threading.Lock()
        done.acquire()
        self.queue.put(((stream, version + 1, "AgentMessage", data, time.time()), done))
        done.acquire()
        after = self.after.pop(done, None)
        if after is not None:
            after.release()

    def _wake(self, waiting: list[threading.Lock]) -> None:
        self.after.update(zip(waiting, waiting[1:]))
        waiting[0].release()


class LibraryStore:
    """The eventsourcing library's SQLite application recorder (WAL, SQLite's default synchronous=FULL)."""

    name = "eventsourcing"

    def __init__(self, path: Path) -> None:
        self.datastore = SQLiteDatastore(
            str(path), originator_id_type="text", pool_size=20, max_overflow=1000, pool_timeout=600
        )
        self.recorder = SQLiteApplicationRecorder(self.datastore)
        self.recorder.create_table()

    def append(self, stream: str, version: int, data: bytes) -> None:
        self.recorder.insert_events(
            [LibraryStoredEvent(stream, version + 1, "AgentMessage", data)]
        )

    def close(self) -> None:
        self.datastore.close()


def replay_per_stream(store: EventStore | DynamoEventStore, names: list[str]) -> Callable[[], int]:
    """A replay of `names`, each stream read and decoded: returns how many events it read."""
    def replay() -> int:
        count = 0
        for name in names:
            for stored in store.read_stream(name):
                decode(stored.data)
                count += 1
        return count

    return replay

def conversation_events(conversation_id: str, count: int) -> list[tuple[str, bytes]]:
    """`count` real events of one conversation, (type, body), made by driving `decide` as
    the actor shell does: a transfer, the chat started and connected, an agent joined,
    then turns of a user message (intent and done, the auto-disconnect timer cancelled)
    and an agent answer (the timer armed again)."""
    state = initial_state(conversation_id)
    produced: list[ConversationEvent] = []

    def run(command: Command) -> None:
        nonlocal state
        for event in decide(state, command):
            state = evolve(state, event)
            produced.append(event)

    target = ConnectTarget(region="eu-west-2", instance_id="instance-1", contact_flow_id="flow-1")
    run(
        Transfer(
            at=0.0,
            worker_id="worker-1",
            bot_name="Botty",
            context={"FirstName": "Bo", "Order": "A-1042"},
            deliver_to="https://bot.example/webhook",
            target=target,
            initial_connection_message='{"topic":"aws/subscribe"}',
            auto_disconnect=(
                AutoDisconnectRule(
                    kind="WARNING",
                    seconds_after_agent_message=60,
                    user_message="Are you still there?",
                    agent_message="The customer has been quiet",
                ),
            ),
        )
    )
    run(
        ChatStartSucceeded(
            at=1.0,
            effect_id=pending_effects(state)[0].effect_id,
            contact_id=f"contact-{conversation_id}",
            participant_id=f"participant-{conversation_id}",
            participant_token="token",
        )
    )
    run(ConnectionEstablished(at=1.5, connection_token="connection-token"))
    run(ParticipantJoinedReceived(at=2.0, message_id="joined", role="AGENT", display_name="Ana"))
    turn = 0
    while len(produced) < count:
        at = 10.0 + 10 * turn
        request_seq = state.version + 1
        run(UserSays(at=at, bot_message_id=f"bot-{turn}", text=f"Question number {turn}, please?"))
        run(
            UserMessageAcknowledged(
                at=at + 0.2, effect_id=request_seq, connect_message_id=f"user-{turn}"
            )
        )
        run(
            ConnectMessageReceived(
                at=at + 5,
                message_id=f"agent-{turn}",
                role="AGENT",
                display_name="Ana",
                content=f"Here is the answer to question {turn}.",
            )
        )
        turn += 1
    return [(event_type(event), encode(event)) for event in produced[:count]]


STORES: tuple[Callable[[Path], Appender], ...] = (
    OurStore,
    RawGroupCommit,
    RawChainedGroupCommit,
    LibraryStore,
)


@dataclass
class AppendRun:
    store: str
    writers: int
    events: int
    seconds: float
    events_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_event: float  # the whole process's (user + system), callers and writer
    switches_per_event: float  # voluntary context switches of the whole process


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def median_run(runs: list[AppendRun]) -> AppendRun:
    return sorted(runs, key=lambda run: run.events_per_second)[len(runs) // 2]


def measure_appends(
    open_store: Callable[[Path], Appender], folder: Path, writers: int, events: int, data: bytes
) -> AppendRun:
    """`writers` threads released together, each appending its share of `events` one by one."""
    path = folder / f"appends-{writers}.db"
    store = open_store(path)
    each = max(1, events // writers)
    start = threading.Barrier(writers + 1)
    latencies: list[list[float]] = [[] for _ in range(writers)]

    def write(index: int) -> None:
        stream = f"conversation-{index}"
        record = latencies[index].append
        start.wait()
        for version in range(each):
            began = time.perf_counter()
            store.append(stream, version, data)
            record(time.perf_counter() - began)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    store.close()
    _remove_database(path)
    all_latencies = sorted(latency for per_writer in latencies for latency in per_writer)
    total = each * writers
    return AppendRun(
        store=store.name,  # type: ignore[attr-defined]
        writers=writers,
        events=total,
        seconds=seconds,
        events_per_second=total / seconds,
        p50_ms=percentile(all_latencies, 0.50) * 1000,
        p99_ms=percentile(all_latencies, 0.99) * 1000,
        cpu_us_per_event=(
            usage.ru_utime + usage.ru_stime - usage_before.ru_utime - usage_before.ru_stime
        )
        / total
        * 1e6,
        switches_per_event=(usage.ru_nvcsw - usage_before.ru_nvcsw) / total,
    )


@dataclass
class SteadyRun:
    store: str
    rate: int
    writers: int
    events: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def measure_steady_rate(
    open_store: Callable[[Path], Appender], folder: Path, rate: int, seconds: float, data: bytes
) -> SteadyRun:
    """Appends offered on a fixed schedule; latency runs from the scheduled moment to the
    acknowledgement, so an append that had to wait for a slow one before it counts its wait."""
    path = folder / "steady.db"
    store = open_store(path)
    writers = 200
    per_writer = int(rate * seconds) // writers
    latencies: list[list[float]] = [[] for _ in range(writers)]
    start_at = time.perf_counter() + 0.5

    def write(index: int) -> None:
        stream = f"conversation-{index}"
        record = latencies[index].append
        for version in range(per_writer):
            due = start_at + (version * writers + index) / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            store.append(stream, version, data)
            record(time.perf_counter() - due)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    _remove_database(path)
    ordered = sorted(latency for per_writer in latencies for latency in per_writer)
    return SteadyRun(
        store=store.name,  # type: ignore[attr-defined]
        rate=rate,
        writers=writers,
        events=len(ordered),
        p50_ms=percentile(ordered, 0.50) * 1000,
        p99_ms=percentile(ordered, 0.99) * 1000,
        max_ms=ordered[-1] * 1000,
    )


@dataclass
class ReplayRun:
    what: str
    events: int
    seconds: float
    events_per_second: float


def measure_replay(folder: Path, events: int, streams: int, repeats: int) -> list[ReplayRun]:
    """Load `events` conversation events in `streams` streams into both stores, then replay
    them; each way `repeats` times, interleaved, keeping the fastest (the least disturbed)."""
    per_stream = events // streams
    ours_path = folder / "replay.db"
    library_path = folder / "replay-eventsourcing.db"
    names = [f"conversation-{n:06d}" for n in range(streams)]
    print(f"  loading {per_stream * streams:,} events in {streams:,} streams ...", flush=True)
    _load(ours_path, library_path, names, per_stream)

    store = EventStore.open(ours_path)
    datastore = SQLiteDatastore(str(library_path), originator_id_type="text")
    recorder = SQLiteApplicationRecorder(datastore)

    read_and_decode = replay_per_stream(store, names)

    def read_decode_and_fold() -> int:
        count = 0
        for name in names:
            state = initial_state(name)
            for stored in store.read_stream(name):
                state = evolve(state, decode(stored.data))
                count += 1
        return count

    def library_read_and_decode() -> int:
        count = 0
        for name in names:
            for stored in recorder.select_events(name):
                decode(stored.state)
                count += 1
        return count

    ways = {
        "ours: read + decode": read_and_decode,
        "ours: read + decode + fold": read_decode_and_fold,
        "eventsourcing: read + decode": library_read_and_decode,
    }
    tries: dict[str, list[ReplayRun]] = {}
    for _ in range(repeats):
        for what, replay in ways.items():
            tries.setdefault(what, []).append(_timed(what, replay))
    store.close()
    datastore.close()
    _remove_database(ours_path)
    _remove_database(library_path)
    return [max(runs, key=lambda run: run.events_per_second) for runs in tries.values()]


def _load(ours_path: Path, library_path: Path, names: list[str], per_stream: int) -> None:
    with EventStore.open(ours_path, synchronous="NORMAL") as store:
        datastore = SQLiteDatastore(str(library_path), originator_id_type="text")
        recorder = SQLiteApplicationRecorder(datastore)
        recorder.create_table()
        for name in names:
            events = conversation_events(name, per_stream)
            store.append(name, [NewEvent(type_, data) for type_, data in events], 0)
            recorder.insert_events(
                [
                    LibraryStoredEvent(name, seq, type_, data)
                    for seq, (type_, data) in enumerate(events, start=1)
                ]
            )
        datastore.close()


def _timed(what: str, replay: Callable[[], int]) -> ReplayRun:
    began = time.perf_counter()
    count = replay()
    seconds = time.perf_counter() - began
    return ReplayRun(what, count, seconds, count / seconds)


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def scratch_folder() -> Iterator[Path]:
    OUT.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="scratch-", dir=OUT))
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


PARTS = ("appends", "steady", "replay", "dynamodb")


class DynamoStore:
    """The DynamoDB store on a fresh table of the moto server at `DynamoStore.endpoint_url`."""

    name = "dynamodb (moto)"
    endpoint_url = ""

    def __init__(self, path: Path) -> None:
        self.store = open_dynamo_store(self.endpoint_url, fresh_table(self.endpoint_url), path)

    def append(self, stream: str, version: int, data: bytes) -> None:
        self.store.append(stream, [NewEvent("AgentMessage", data)], version)

    def close(self) -> None:
        self.store.close()


def measure_two_nodes(folder: Path, appends: int, data: bytes) -> tuple[AppendRun, int]:
    """Two DynamoDB stores (two nodes) on one table, one writer each, released together: appends/s,
    and the transactions tried again because the other node had moved the log's head."""
    table = fresh_table(DynamoStore.endpoint_url)
    nodes = [open_dynamo_store(DynamoStore.endpoint_url, table, folder / f"node-{n}.db") for n in range(2)]
    each = appends // 2
    start = threading.Barrier(3)

    def write(node: DynamoEventStore, stream: str) -> None:
        start.wait()
        for version in range(each):
            node.append(stream, [NewEvent("AgentMessage", data)], version)

    threads = [threading.Thread(target=write, args=(node, f"conversation-{n}")) for n, node in enumerate(nodes)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    retried = sum(node.stats().batches - node.stats().appends for node in nodes)
    for node in nodes:
        node.close()
    run = AppendRun("dynamodb (moto), 2 nodes", 2, each * 2, seconds, each * 2 / seconds, 0.0, 0.0, 0.0, 0.0)
    return run, retried


def measure_transactions(appends: int, writers: int, data: bytes) -> tuple[int, float]:
    """`appends` one-event appends from `writers` threads released together on one DynamoDB store: how
    many transactions they took (what a round trip costs on AWS) and appends/s on moto."""
    store = open_dynamo_store(DynamoStore.endpoint_url, fresh_table(DynamoStore.endpoint_url), Path(tempfile.mkdtemp(dir=OUT)) / "local.db")
    each = appends // writers
    start = threading.Barrier(writers + 1)

    def write(index: int) -> None:
        start.wait()
        for version in range(each):
            store.append(f"conversation-{index}", [NewEvent("AgentMessage", data)], version)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    rate = each * writers / (time.perf_counter() - began)
    transactions = store.stats().batches
    store.close()
    shutil.rmtree(store.path.parent)
    return transactions, rate


def measure_dynamo_replay(folder: Path, events: int, streams: int, repeats: int) -> list[ReplayRun]:
    """The same conversation events in SQLite and in a DynamoDB table (appends of 40 events, under the
    48 a transaction holds), read back per stream (read and decode) and in the global order, page by page."""
    per_stream = events // streams
    names = [f"conversation-{n:06d}" for n in range(streams)]
    sqlite = EventStore.open(folder / "dynamo-replay.db", synchronous="NORMAL")
    dynamo = open_dynamo_store(DynamoStore.endpoint_url, fresh_table(DynamoStore.endpoint_url), folder / "local.db")
    print(f"  loading {per_stream * streams:,} events in {streams:,} streams into both ...", flush=True)
    for name in names:
        produced = [NewEvent(type_, data) for type_, data in conversation_events(name, per_stream)]
        for store in (sqlite, dynamo):
            for first in range(0, len(produced), 40):
                store.append(name, produced[first:first + 40], first)

    def global_order_of(store: EventStore | DynamoEventStore) -> Callable[[], int]:
        def replay() -> int:
            count = position = 0
            while page := store.read_all(after_position=position, limit=1000):
                count += len(page)
                position = page[-1].position
            return count

        return replay

    ways = {
        "sqlite: per stream, read + decode": replay_per_stream(sqlite, names),
        "dynamodb (moto): per stream, read + decode": replay_per_stream(dynamo, names),
        "sqlite: global order, read": global_order_of(sqlite),
        "dynamodb (moto): global order, read": global_order_of(dynamo),
    }
    tries: dict[str, list[ReplayRun]] = {}
    for _ in range(repeats):
        for what, replay in ways.items():
            tries.setdefault(what, []).append(_timed(what, replay))
    sqlite.close()
    dynamo.close()
    return [max(runs, key=lambda run: run.events_per_second) for runs in tries.values()]


def run_dynamodb(args: argparse.Namespace, folder: Path, data: bytes) -> dict[str, object]:
    """Appends and replay, DynamoDB on moto's server beside ours on SQLite, interleaved."""
    os.environ.update(DUMMY_CREDENTIALS)  # moto takes any keys; this process signs with these
    with moto_server() as endpoint_url:
        DynamoStore.endpoint_url = endpoint_url
        print(f"dynamodb (moto at {endpoint_url}, region {REGION}) beside sqlite, median of {args.repeats}:", flush=True)
        medians: list[AppendRun] = []
        for writers in (1, 10):
            tries: dict[str, list[AppendRun]] = {}
            for _ in range(args.repeats):
                for open_store in (OurStore, DynamoStore):
                    run = measure_appends(open_store, folder, writers, args.dynamo_appends, data)
                    tries.setdefault(run.store, []).append(run)
            for store_runs in tries.values():
                run = median_run(store_runs)
                medians.append(run)
                print(f"  {run.store:>16} {writers:>3} writers: {run.events_per_second:>8,.0f}/s"
                      f"  ({run.p50_ms:.2f} / {run.p99_ms:.2f} ms, {run.cpu_us_per_event:.0f} µs CPU per append)",
                      flush=True)
        batching = {}
        for writers in (1, 10):
            transactions, rate = measure_transactions(100, writers, data)
            batching[writers] = transactions
            print(f"  100 appends from {writers:>2} writers on one store: {transactions} transactions, {rate:,.0f}/s",
                  flush=True)
        two_nodes, retried = measure_two_nodes(folder, args.dynamo_appends, data)
        print(f"  two nodes on one table, 1 writer each: {two_nodes.events_per_second:,.0f}/s,"
              f" {retried} of {two_nodes.events} appends tried again (the other node had moved the head)", flush=True)
        replay = measure_dynamo_replay(folder, args.dynamo_events, max(1, args.dynamo_events // 100), args.repeats)
        for run in replay:
            print(f"  {run.what:>44}: {run.events_per_second:>9,.0f} events/s", flush=True)
    rate = {(run.store, run.writers): run.events_per_second for run in medians}
    replay_rate = {run.what: run.events_per_second for run in replay}
    ratios = {f"appends, {w} writers, dynamodb (moto) / sqlite": rate["dynamodb (moto)", w] / rate["ours", w] for w in (1, 10)}
    ratios["replay per stream, dynamodb (moto) / sqlite"] = (
        replay_rate["dynamodb (moto): per stream, read + decode"] / replay_rate["sqlite: per stream, read + decode"]
    )
    ratios["replay global order, dynamodb (moto) / sqlite"] = (
        replay_rate["dynamodb (moto): global order, read"] / replay_rate["sqlite: global order, read"]
    )
    for name, value in ratios.items():
        print(f"  {name}: {value:.3f}", flush=True)
    return {
        "appends": [asdict(run) for run in medians],
        "two_nodes": asdict(two_nodes) | {"retried": retried},
        "transactions_for_100_appends": batching,
        "replay": [asdict(run) for run in replay],
        "ratios": ratios,
    }


def run_appends(args: argparse.Namespace, folder: Path, data: bytes) -> list[AppendRun]:
    print(
        f"appends, events/s (p50 / p99 acknowledgement latency), median of {args.repeats}:",
        flush=True,
    )
    medians = []
    for writers in args.writers:
        count = args.appends // 4 if writers == 1 else args.appends
        tries: dict[str, list[AppendRun]] = {}
        # Interleaved, so that a slow moment of the disk does not fall on one store only.
        for _ in range(args.repeats):
            for open_store in STORES:
                run = measure_appends(open_store, folder, writers, count, data)
                tries.setdefault(run.store, []).append(run)
        for store_runs in tries.values():
            run = median_run(store_runs)
            medians.append(run)
            spread = ", ".join(
                f"{r.events_per_second:,.0f} ({r.cpu_us_per_event:.0f} µs,"
                f" {r.switches_per_event:.1f})"
                for r in store_runs
            )
            print(
                f"  {run.store:>14} {writers:>5} writers: {run.events_per_second:>9,.0f}/s"
                f"  ({run.p50_ms:.2f} / {run.p99_ms:.2f} ms)"
                f"  runs (CPU, switches per event): {spread}",
                flush=True,
            )
    return medians


def run_steady(args: argparse.Namespace, folder: Path, data: bytes) -> SteadyRun:
    print(f"steady {args.rate:,} events/s for {args.steady_seconds:g} s:", flush=True)
    steady = measure_steady_rate(OurStore, folder, args.rate, args.steady_seconds, data)
    print(
        f"  {steady.store}: p50 {steady.p50_ms:.2f} ms, p99 {steady.p99_ms:.2f} ms,"
        f" max {steady.max_ms:.2f} ms over {steady.events:,} events",
        flush=True,
    )
    return steady


def run_replay(args: argparse.Namespace, folder: Path) -> list[ReplayRun]:
    print(f"replay, fastest of {args.repeats}:", flush=True)
    replay = measure_replay(folder, args.events, args.streams, args.repeats)
    for run in replay:
        print(f"  {run.what:>30}: {run.events_per_second:>10,.0f} events/s", flush=True)
    return replay


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to replay")
    parser.add_argument("--streams", type=int, default=10_000, help="streams they are spread over")
    parser.add_argument(
        "--appends", type=int, default=20_000, help="appends per store and writer count"
    )
    parser.add_argument(
        "--event-bytes", type=int, default=160, help="size of each appended event"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per append measurement")
    parser.add_argument("--rate", type=int, default=10_000, help="events per second, steady run")
    parser.add_argument("--steady-seconds", type=float, default=5.0)
    parser.add_argument(
        "--writers",
        type=int,
        nargs="+",
        choices=WRITER_COUNTS,
        default=list(WRITER_COUNTS),
        help="concurrent writer counts to measure appends with",
    )
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS[:3]), help="what to measure (dynamodb: only when named)"
    )
    parser.add_argument("--dynamo-appends", type=int, default=300, help="appends per store and writer count, dynamodb part")
    parser.add_argument("--dynamo-events", type=int, default=4000, help="events to replay, dynamodb part")
    args = parser.parse_args()

    data = bytes(range(256))[: args.event_bytes].ljust(args.event_bytes, b"x")
    print(f"event size: {len(data)} bytes; SQLite {sqlite3.sqlite_version}; synchronous=FULL")
    report: dict[str, object] = {"event_bytes": len(data), "args": vars(args)}
    appends: list[AppendRun] = []
    replay: list[ReplayRun] = []
    with scratch_folder() as folder:
        if "appends" in args.parts:
            appends = run_appends(args, folder, data)
            report["appends"] = [asdict(run) for run in appends]
        if "steady" in args.parts:
            report["steady"] = asdict(run_steady(args, folder, data))
        if "replay" in args.parts:
            replay = run_replay(args, folder)
            report["replay"] = [asdict(run) for run in replay]
        if "dynamodb" in args.parts:
            report["dynamodb"] = run_dynamodb(args, folder, data)

    ratios = _ratios(appends, replay)
    print("ratios (targets in brackets):")
    for name, (value, target) in ratios.items():
        verdict = "" if target is None else ("  met" if value >= target else "  MISSED")
        bracket = "" if target is None else f" [>= {target}]"
        print(f"  {name}: {value:.2f}{bracket}{verdict}")
    report["ratios"] = {name: value for name, (value, _) in ratios.items()}
    out = OUT / f"store-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"written to {out}")
    return 0


def _ratios(
    appends: list[AppendRun], replay: list[ReplayRun]
) -> dict[str, tuple[float, float | None]]:
    ratios: dict[str, tuple[float, float | None]] = {}
    rate = {(run.store, run.writers): run.events_per_second for run in appends}
    for writers in sorted({run.writers for run in appends}):
        ratios[f"appends, {writers} writers, ours / raw sqlite3"] = (
            rate["ours", writers] / rate["raw sqlite3", writers],
            0.9 if writers == 1000 else None,
        )
        ratios[f"appends, {writers} writers, ours / raw chained"] = (
            rate["ours", writers] / rate["raw chained", writers],
            None,
        )
        ratios[f"appends, {writers} writers, ours / eventsourcing"] = (
            rate["ours", writers] / rate["eventsourcing", writers],
            3.0 if writers == 1000 else None,
        )
    replay_rate = {run.what: run.events_per_second for run in replay}
    if replay:
        ratios["replay, fold / read + decode"] = (
            replay_rate["ours: read + decode + fold"] / replay_rate["ours: read + decode"],
            0.5,
        )
        ratios["replay, read + decode, ours / eventsourcing"] = (
            replay_rate["ours: read + decode"] / replay_rate["eventsourcing: read + decode"],
            None,
        )
    return ratios


if __name__ == "__main__":
    sys.exit(main())
