"""Auto-disconnect timers at 10,000 conversations, run by hand: how late each firing is, with the
service running and right after a restart, when its timers come back from the event log.

    .venv/bin/python bench/timers.py                                  # 10,000 conversations, about 4 minutes
    .venv/bin/python bench/timers.py --ramp 10                        # the same at 1,000 firings a second
    .venv/bin/python bench/timers.py --conversations 1000 --ramp 4    # quick
    .venv/bin/python bench/timers.py --data-root /dev/shm             # the store on tmpfs: the disk out of it

Every measurement uses the same due times: N agent messages spread evenly over `--ramp` seconds (by
default 40: 250 a second, in a random order of the conversations), each arming a WARNING `--warning`
seconds later. Lateness is when a firing happened minus its due time.

1. baseline: a heap and one thread that waits on a condition until the earliest due time, the least a
   Python timer thread can do; its callback notes the time;
2. the timer service alone (actors/timers.py), its callback noting the time;
3. the service, live: the worker service (service/, actors/: one actor per conversation, the real
   store with synchronous=FULL) recovers N conversations whose agent has joined, then each actor is
   told its agent's message at its moment; the actor decides, appends `TimerArmed` for the WARNING and
   the DISCONNECT and schedules them; the WARNINGs are measured;
4. the service, restarted: stopped once every WARNING has fired, started again on the same log
   `--lead` seconds before the first DISCONNECT falls due; recovery replays every conversation and
   re-schedules its DISCONNECT, which is measured.

For the service two moments are taken: the timer thread's (the `at` of `TimerFired`, the time the
timer service woke up and told the actor) and the durable one (when the append holding `TimerFired`
returned: the firing is a fact, the bot's UserNotified and the agent's message follow from it).

Amazon Connect is left out: the actors' chat sockets never connect (`QuietSocket`), so the effects a
firing asks for (the rule's AgentMessage, the disconnect) wait, as in a Connect outage; they stop as
they start, having read nothing, so a resumed conversation's timers, which wait for its socket to
catch up, decide as if Connect had nothing new. Nothing else of Connect's is on a firing's path up to
`TimerFired`; what it would add is the catch-up's round trips after a restart and CPU load
(heartbeats), which bench/load.py measures.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors.conversation import tell  # noqa: E402
from bench.loadkit.stats import percentile  # noqa: E402
from actors.timers import TimerService  # noqa: E402
from connect_client import SocketStopped, StopReason  # noqa: E402
from events import decide, decode, encode, evolve, event_type, initial_state, pending_effects  # noqa: E402
from events.commands import (  # noqa: E402
    ChatStartSucceeded,
    Command,
    ConnectionEstablished,
    ConnectMessageReceived,
    ParticipantJoinedReceived,
    Transfer,
)
from events.worker import auto_disconnect_rules, connect_target  # noqa: E402
from events.worker_config import parse_worker_config  # noqa: E402
from service import WorkerService, local_regions  # noqa: E402
from store import EventStore, NewEvent  # noqa: E402
from store.conversations import conversation_stream  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
TARGET_P99_MS = 50.0
NOWHERE = "http://127.0.0.1:9"  # Connect's endpoint: never called, as no socket ever connects
SEED_WRITERS = 64  # threads seeding the log, so that group commit batches their appends
DEADLINE = 120.0  # seconds past the last due time before a phase gives up


@dataclass
class Lateness:
    """How late the firings of one measurement were, in milliseconds."""

    what: str
    firings: int
    expected: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    early: int  # firings before their due time (must be 0)

    @classmethod
    def of(cls, what: str, late_seconds: Sequence[float], expected: int) -> Lateness:
        ordered = sorted(late_seconds)
        if not ordered:
            return cls(what, 0, expected, float("nan"), float("nan"), float("nan"), 0)
        return cls(what, len(ordered), expected, 1000 * percentile(ordered, 0.50), 1000 * percentile(ordered, 0.99),
                   1000 * ordered[-1], sum(1 for late in ordered if late < 0))

    def line(self) -> str:
        if not self.expected:
            return f"  {self.what:<44} none"
        missing = "" if self.firings == self.expected else f"  ({self.expected - self.firings} NEVER FIRED)"
        early = "" if not self.early else f"  ({self.early} EARLY)"
        return (f"  {self.what:<44} p50 {self.p50_ms:8.2f} ms  p99 {self.p99_ms:8.2f} ms  max {self.max_ms:8.2f} ms"
                f"  ({self.firings:,} firings){missing}{early}")


# -- the baselines ------------------------------------------------------------


class HeapTimer:
    """The baseline: a heap of due times and one thread that sleeps on a condition until the first."""

    def __init__(self, fire: Callable[[str, float], None]) -> None:
        self._fire = fire
        self._heap: list[tuple[float, str]] = []
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="heap-timer", daemon=True)

    def start(self) -> HeapTimer:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._thread.join()

    def schedule(self, key: str, due_at: float) -> None:
        with self._changed:
            heapq.heappush(self._heap, (due_at, key))
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and (not self._heap or self._heap[0][0] > time.time()):
                    self._changed.wait(None if not self._heap else self._heap[0][0] - time.time())
                if self._stopping:
                    return
                _, key = heapq.heappop(self._heap)
            self._fire(key, time.time())


class Firings:
    """The first time each key was noted, from any thread; `wait` until `count` keys have come."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._changed = threading.Condition()

    def note(self, key: str, at: float) -> None:
        with self._changed:
            self.at.setdefault(key, at)
            self._changed.notify_all()

    def wait(self, count: int, until: float) -> None:
        with self._changed:
            while len(self.at) < count and time.time() < until:
                self._changed.wait(0.5)


def measure_baseline(kind: str, offsets: list[float], lead: float) -> Lateness:
    """`kind` "heap" (HeapTimer) or "service" (TimerService): every timer scheduled, then fired."""
    firings = Firings()
    start = time.time() + lead
    due = {f"c-{n}": start + offset for n, offset in enumerate(offsets)}
    if kind == "heap":
        timer = HeapTimer(firings.note).start()
        for key, due_at in due.items():
            timer.schedule(key, due_at)
        what = "baseline: a heap and one thread"
    else:
        timer = TimerService(lambda conversation_id, timer_id, now: firings.note(conversation_id, now)).start()
        for key, due_at in due.items():
            timer.schedule(key, "warning", due_at)
        what = "the timer service alone"
    firings.wait(len(due), until=max(due.values()) + DEADLINE)
    timer.stop()
    return Lateness.of(what, [at - due[key] for key, at in firings.at.items()], len(due))


# -- the service --------------------------------------------------------------


class QuietSocket:
    """A chat socket that reads nothing and never connects: it stops as it starts, so its actor has
    caught up with nothing new (a resumed conversation's timers wait for that: actors/README.md,
    "Timers") and the effects that need a connection wait for ever."""

    def __init__(self, *args: Any, on_state: Callable[[Any], None], **kwargs: Any) -> None:
        self._on_state = on_state

    def start(self) -> QuietSocket:
        self._on_state(SocketStopped(StopReason.CLOSED, "bench: no Connect"))
        return self

    def close(self) -> None:
        pass


class TimedStore(EventStore):
    """The event store, noting when each append that holds a `TimerFired` returned (durable)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fired = Firings()

    def append(self, stream: str, events: Sequence[NewEvent], expected_version: int, *,
               closes_stream: bool = False) -> int:
        version = super().append(stream, events, expected_version, closes_stream=closes_stream)
        durable = time.time()
        for event in events:
            if event.type == "TimerFired":
                self.fired.note(decode(event.data).timer_id, durable)
        return version


def worker_file(warning: int, disconnect: int) -> dict[str, Any]:
    return {
        "Data": {
            "ContactFlowId": "aaaaaaaa-bbbb-4ccc-8ddd-000000000001",
            "InstanceId": "11111111-2222-4333-8444-555555555555",
            "Region": "us-east-1",
            "Secret": "srn:vault::bench:aws-cross-account-role:local",
            "AutoDisconnectEvents": [
                {"SecondsAfterAgentMessage": warning, "Type": "WARNING",
                 "UserMessage": "It has been a while since we heard from you.",
                 "AgentMessage": "The user has been quiet for a while."},
                {"SecondsAfterAgentMessage": disconnect, "Type": "DISCONNECT",
                 "UserMessage": "The session has been disconnected due to inactivity",
                 "AgentMessage": "The session has been disconnected due to inactivity"},
            ],
        },
        "Name": "bench-timers",
        "Type": "amazon-connect-worker",
    }


def seed(store: EventStore, conversations: int, warning: int, disconnect: int) -> list[str]:
    """N conversations, written by driving `decide` as the actors do: transferred, chat started and
    connected, the agent joined; no message yet, so no timer."""
    config = parse_worker_config(json.dumps(worker_file(warning, disconnect)))
    ids = [f"timers-{n:05d}" for n in range(conversations)]

    def write(conversation_id: str) -> None:
        state, events = initial_state(conversation_id), []

        def run(command: Command) -> None:
            nonlocal state
            for event in decide(state, command):
                state = evolve(state, event)
                events.append(NewEvent(event_type(event), encode(event)))

        now = time.time()
        run(Transfer(at=now, worker_id="bench", bot_name="Botty", deliver_to="", target=connect_target(config),
                     initial_connection_message=config.data.initial_connection_message,
                     auto_disconnect=auto_disconnect_rules(config)))
        run(ChatStartSucceeded(at=now, effect_id=pending_effects(state)[0].effect_id, contact_id=f"contact-{conversation_id}",
                               participant_id=f"participant-{conversation_id}", participant_token="token"))
        run(ConnectionEstablished(at=now, connection_token="connection-token"))
        run(ParticipantJoinedReceived(at=now, message_id=f"joined-{conversation_id}", role="AGENT", display_name="Ana"))
        store.append(conversation_stream(conversation_id), events, expected_version=0)

    with ThreadPoolExecutor(SEED_WRITERS) as pool:
        list(pool.map(write, ids))
    return ids


@dataclass
class ServiceRun:
    live_timer_thread: Lateness
    live_durable: Lateness
    restarted_timer_thread: Lateness
    restarted_durable: Lateness
    restarted_scheduled_in_time: Lateness  # the DISCONNECTs recovery had scheduled before they fell due
    restarted_overdue_at_recovery: Lateness  # ... and those already due when it did
    seed_seconds: float
    first_recovery_seconds: float  # recovering N conversations without timers, before the live run
    stop_seconds: float
    recovery_seconds: float  # the restart: until recovery is through (start() returns before)
    all_scheduled_seconds: float  # the restart: until recovery had scheduled every DISCONNECT
    live_cpu_seconds: float  # the process's CPU (user + system) from the first agent message to the last WARNING
    live_seconds: float


def measure_service(folder: Path, conversations: int, offsets: list[float], warning: int, disconnect: int,
                    lead: float) -> ServiceRun:
    path = folder / "events.db"
    began = time.time()
    with EventStore.open(path) as store:
        ids = seed(store, conversations, warning, disconnect)
    seed_seconds = time.time() - began
    print(f"  seeded {conversations:,} conversations in {seed_seconds:.1f} s", flush=True)

    # Live: the agents speak, the actors arm the timers, the WARNINGs fire.
    store = TimedStore.open(path)
    service = WorkerService(store, local_regions(NOWHERE), socket_factory=QuietSocket)
    began = time.time()
    assert service.start().wait_recovered(DEADLINE), "recovery"  # start() returns before recovery is through
    first_recovery_seconds = time.time() - began
    supervisor = service.supervisor("us-east-1")
    refs = [supervisor.running_actor(conversation_id) for conversation_id in ids]
    start = time.time() + 1.0
    cpu_before = _cpu_seconds()
    for n in sorted(range(conversations), key=offsets.__getitem__):
        time.sleep(max(0.0, start + offsets[n] - time.time()))
        tell(refs[n], ConnectMessageReceived(at=service.clock(), message_id=f"agent-{n}", role="AGENT", display_name="Ana",
                                         content="Here is your answer."))
    store.fired.wait(conversations, until=start + max(offsets) + warning + DEADLINE)
    live_cpu_seconds, live_seconds = _cpu_seconds() - cpu_before, time.time() - start
    began = time.time()
    service.stop()
    store.close()
    stop_seconds = time.time() - began
    armed, fired_at = _timers(path)
    live = [timer for timer in armed.values() if timer.rule.kind == "WARNING"]
    live_thread = Lateness.of("the service, live: timer thread", [fired_at[t.timer_id] - t.due_at for t in live
                                                                   if t.timer_id in fired_at], len(live))
    live_durable = Lateness.of("the service, live: durable", [store.fired.at[t.timer_id] - t.due_at for t in live
                                                              if t.timer_id in store.fired.at], len(live))

    # Restarted: on the same log, `lead` seconds before the first DISCONNECT is due.
    disconnects = [timer for timer in armed.values() if timer.rule.kind == "DISCONNECT"]
    restart_at = min(timer.due_at for timer in disconnects) - lead
    late_restart = time.time() - restart_at
    if late_restart > 0:
        print(f"  the restart comes {late_restart:.2f} s later than planned (stopping took {stop_seconds:.1f} s); "
              "raise --disconnect", flush=True)
    time.sleep(max(0.0, -late_restart))
    began = time.time()
    store = TimedStore.open(path)
    service = WorkerService(store, local_regions(NOWHERE), socket_factory=QuietSocket)
    scheduled = Firings()
    schedule = service.timers.schedule

    def noting_schedule(conversation_id: str, timer_id: str, due_at: float) -> None:
        scheduled.note(timer_id, time.time())
        schedule(conversation_id, timer_id, due_at)

    service.timers.schedule = noting_schedule  # type: ignore[method-assign]  # instrumentation only
    assert service.start().wait_recovered(DEADLINE), "recovery"
    recovery_seconds = time.time() - began
    scheduled.wait(conversations, until=time.time() + DEADLINE)
    all_scheduled_seconds = max(scheduled.at.values(), default=began) - began  # each timer's first scheduling
    store.fired.wait(conversations, until=max(t.due_at for t in disconnects) + DEADLINE)
    service.stop()
    store.close()
    _, fired_at = _timers(path)
    thread_late = {t.timer_id: fired_at[t.timer_id] - t.due_at for t in disconnects if t.timer_id in fired_at}
    durable_late = {t.timer_id: store.fired.at[t.timer_id] - t.due_at for t in disconnects
                    if t.timer_id in store.fired.at}
    in_time = {t.timer_id for t in disconnects if scheduled.at.get(t.timer_id, float("inf")) <= t.due_at}
    overdue = {t.timer_id for t in disconnects} - in_time
    return ServiceRun(
        live_thread,
        live_durable,
        Lateness.of("the service, restarted: timer thread", list(thread_late.values()), len(disconnects)),
        Lateness.of("the service, restarted: durable", list(durable_late.values()), len(disconnects)),
        Lateness.of("  of which scheduled before due: durable",
                    [late for key, late in durable_late.items() if key in in_time], len(in_time)),
        Lateness.of("  of which overdue at recovery: durable",
                    [late for key, late in durable_late.items() if key in overdue], len(overdue)),
        seed_seconds, first_recovery_seconds, stop_seconds, recovery_seconds, all_scheduled_seconds,
        live_cpu_seconds, live_seconds,
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timers(path: Path) -> tuple[dict[str, Any], dict[str, float]]:
    """Every TimerArmed by timer id, and each TimerFired's `at` (the timer thread's clock)."""
    with EventStore.open(path) as store:
        armed: dict[str, Any] = {}
        fired: dict[str, float] = {}
        for stream in store.open_streams("conversation-"):
            for stored in store.read_stream(stream):
                if stored.type == "TimerArmed":
                    timer = decode(stored.data)
                    armed[timer.timer_id] = timer
                elif stored.type == "TimerFired":
                    event = decode(stored.data)
                    fired[event.timer_id] = event.at
    return armed, fired


@contextmanager
def scratch_folder(root: Path | None) -> Iterator[Path]:
    OUT.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="timers-", dir=root or OUT))
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--ramp", type=float, default=40.0, help="seconds the agents' messages are spread over")
    parser.add_argument("--warning", type=int, default=2, help="the WARNING's SecondsAfterAgentMessage")
    parser.add_argument("--disconnect", type=int,
                        help="the DISCONNECT's SecondsAfterAgentMessage (default: the WARNING's, the ramp and 10 s,"
                             " room for every WARNING to fire and the service to stop before the restart)")
    parser.add_argument("--lead", type=float, default=1.0,
                        help="seconds between the restart and the first DISCONNECT falling due")
    parser.add_argument("--seed", type=int, default=1, help="which conversation speaks when")
    parser.add_argument("--data-root", type=Path, help="where the store's scratch folder goes (default bench/out)")
    args = parser.parse_args()
    if args.disconnect is None:
        args.disconnect = math.ceil(args.warning + args.ramp + 10)
    if args.disconnect <= args.warning + args.ramp + args.lead:
        parser.error("--disconnect must leave room for every WARNING to fire before the restart")

    n = args.conversations
    # Evenly spread, in an order that has nothing to do with the conversations' names, which is the
    # order recovery takes them in.
    offsets = [args.ramp * k / n for k in range(n)]
    random.Random(args.seed).shuffle(offsets)
    print(f"{n:,} conversations, agent messages over {args.ramp:g} s ({n / args.ramp:,.0f} firings/s), "
          f"WARNING {args.warning} s, DISCONNECT {args.disconnect} s, restart {args.lead:g} s before the first "
          f"DISCONNECT; target p99 <= {TARGET_P99_MS:g} ms late", flush=True)
    baselines = [measure_baseline(kind, offsets, lead=args.warning) for kind in ("heap", "service")]
    for lateness in baselines:
        print(lateness.line(), flush=True)
    with scratch_folder(args.data_root) as folder:
        run = measure_service(folder, n, offsets, args.warning, args.disconnect, args.lead)
    print(f"  recovery before the live run: {run.first_recovery_seconds:.2f} s; stop: {run.stop_seconds:.2f} s; "
          f"restart: recovered in {run.recovery_seconds:.2f} s, every DISCONNECT scheduled after "
          f"{run.all_scheduled_seconds:.2f} s")
    print(f"  CPU while live: {run.live_cpu_seconds:.1f} s in {run.live_seconds:.1f} s "
          f"({run.live_cpu_seconds / run.live_seconds:.2f} of a core)")
    measured = [run.live_timer_thread, run.live_durable, run.restarted_timer_thread, run.restarted_durable,
                run.restarted_scheduled_in_time, run.restarted_overdue_at_recovery]
    for lateness in measured:
        print(lateness.line())
    for lateness in (run.live_durable, run.restarted_durable):
        verdict = "met" if lateness.p99_ms <= TARGET_P99_MS and lateness.firings == lateness.expected else "MISSED"
        print(f"target, {lateness.what}: p99 {lateness.p99_ms:.1f} ms <= {TARGET_P99_MS:g} ms: {verdict}")
    out = OUT / f"timers-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                               "baselines": [asdict(b) for b in baselines], "service": asdict(run)}, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
