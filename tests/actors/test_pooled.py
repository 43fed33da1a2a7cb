"""actors/pooled.py: pykka's actor semantics, on a shared elastic pool of threads."""

from __future__ import annotations

import threading
from typing import Any

import pykka
import pytest
from pykka._envelope import Envelope

from actors.pooled import SLICE, PooledActor
from threads.task_pool import TaskPool

WAIT = 10.0  # a bound on waits that only a broken pool would reach


class Recorder(PooledActor):
    """Records what it is told; `("block", event)` waits for the event; `("raise", error)` raises it;
    `("count", actor)` answers how many messages that actor has recorded."""

    made: list[Recorder] = []  # every one made, for the tests to look inside

    def __init__(self, pool: TaskPool) -> None:
        super().__init__()
        Recorder.made.append(self)
        self.actor_pool = pool
        self.seen: list[Any] = []
        self.threads: set[str] = set()
        self.active = False
        self.overlapped = False
        self.started_on: str | None = None
        self.stopped = threading.Event()
        self.blocked = threading.Event()  # a ("block", gate) message is being handled
        self.failed = threading.Event()
        self.stops = 0

    def on_start(self) -> None:
        self.started_on = threading.current_thread().name

    def on_receive(self, message: Any) -> Any:
        if self.active:
            self.overlapped = True
        self.active = True
        try:
            self.threads.add(threading.current_thread().name)
            if isinstance(message, tuple) and message[0] == "block":
                self.blocked.set()
                message[1].wait(WAIT)
            elif isinstance(message, tuple) and message[0] == "raise":
                raise message[1]
            elif isinstance(message, tuple) and message[0] == "count":
                return len(message[1].seen)  # another actor's progress (safe only on a one-thread pool)
            elif message == "seen":
                return list(self.seen)
            elif message == "stop yourself":
                self.stop()
            for _ in range(200):  # a little work, for a second thread to overlap with if it could
                pass
            self.seen.append(message)
            return ("got", message)
        finally:
            self.active = False

    def on_stop(self) -> None:
        self.stops += 1
        self.stopped.set()

    def on_failure(self, *exc_info: Any) -> None:
        self.failed.set()


@pytest.fixture
def pool() -> TaskPool:
    return TaskPool(max_threads=8, idle_seconds=5.0, name="test-actor")


def start(pool: TaskPool) -> tuple[pykka.ActorRef, Recorder]:
    ref = Recorder.start(pool)
    return ref, Recorder.made[-1]


def test_messages_are_handled_in_order_on_the_pool(pool: TaskPool) -> None:
    ref, actor = start(pool)
    for n in range(500):
        ref.tell(n)
    assert ref.ask("seen", timeout=WAIT) == list(range(500))
    assert actor.started_on is not None and actor.started_on.startswith(pool.name)
    assert actor.threads and all(name.startswith(pool.name) for name in actor.threads)
    ref.stop()


def test_one_message_at_a_time_whoever_sends(pool: TaskPool) -> None:
    """While a message is being handled, the actor's next ones wait for it: no second thread is asked
    for, however many senders."""
    ref, actor = start(pool)
    gate = threading.Event()
    ref.tell(("block", gate))
    assert actor.blocked.wait(WAIT)

    def send(sender: int) -> None:
        for n in range(300):
            ref.tell((sender, n))

    senders = [threading.Thread(target=send, args=(sender,)) for sender in range(6)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    assert pool.threads() == 1 and pool.waiting() == 0
    gate.set()
    seen = ref.ask("seen", timeout=WAIT)
    assert not actor.overlapped
    assert len(seen) == 1801
    for sender in range(6):
        assert [n for s, n in seen[1:] if s == sender] == list(range(300))  # each sender's order kept
    ref.stop()


def test_an_asker_gets_the_answer_or_the_exception_and_the_actor_lives_on(pool: TaskPool) -> None:
    ref, _ = start(pool)
    assert ref.ask("hello", timeout=WAIT) == ("got", "hello")
    with pytest.raises(LookupError, match="no such thing"):
        ref.ask(("raise", LookupError("no such thing")), timeout=WAIT)
    assert ref.is_alive()
    assert ref.ask("again", timeout=WAIT) == ("got", "again")
    ref.stop()


def test_a_failing_tell_stops_the_actor_as_pykka_does(pool: TaskPool) -> None:
    ref, actor = start(pool)
    ref.tell(("raise", RuntimeError("boom")))
    assert actor.failed.wait(WAIT)  # on_failure called
    assert not ref.is_alive()
    assert pykka.ActorRegistry.get_by_urn(actor.actor_urn) is None
    with pytest.raises(pykka.ActorDeadError):
        ref.ask("after", timeout=WAIT)
    assert actor.stops == 0  # on_stop is not called after a failure (pykka's rule)


def test_stop_answers_the_asks_behind_it_with_actor_dead(pool: TaskPool) -> None:
    ref, actor = start(pool)
    gate = threading.Event()
    ref.tell(("block", gate))
    before = ref.ask("before", block=False)
    stopping = ref.stop(block=False)
    behind = [ref.ask(n, block=False) for n in range(3)]  # still alive when asked: queued behind the stop
    gate.set()
    assert before.get(timeout=WAIT) == ("got", "before")
    assert stopping.get(timeout=WAIT) is True
    for future in behind:
        with pytest.raises(pykka.ActorDeadError):
            future.get(timeout=WAIT)
    assert actor.stops == 1
    assert not ref.is_alive()


def test_a_message_put_after_the_stop_is_answered_actor_dead(pool: TaskPool) -> None:
    """A sender that saw the actor alive just before it stopped still gets an answer."""
    ref, _ = start(pool)
    ref.stop(block=True, timeout=WAIT)
    late = pykka.ThreadingFuture()
    ref.actor_inbox.put(Envelope("late", reply_to=late))
    with pytest.raises(pykka.ActorDeadError):
        late.get(timeout=WAIT)


def test_an_actor_stopping_itself_from_its_handler(pool: TaskPool) -> None:
    ref, actor = start(pool)
    ref.tell("stop yourself")
    assert actor.stopped.wait(WAIT)
    assert not ref.is_alive()


def test_many_actors_on_few_threads() -> None:
    pool = TaskPool(max_threads=2, idle_seconds=5.0, name="few")
    started = [start(pool) for _ in range(200)]
    refs = [ref for ref, _ in started]
    futures = [ref.ask(n, block=False) for n, ref in enumerate(refs)]
    assert [future.get(timeout=WAIT) for future in futures] == [("got", n) for n in range(200)]
    assert pool.threads() <= 2
    assert {name for _, actor in started for name in actor.threads} <= {f"{pool.name}-0", f"{pool.name}-1"}
    for ref in refs:
        ref.stop()


def test_at_the_cap_a_ready_actor_waits_for_a_thread_and_is_not_lost() -> None:
    pool = TaskPool(max_threads=2, idle_seconds=5.0, name="capped")
    gates = [threading.Event(), threading.Event()]
    busy = [start(pool) for _ in gates]
    answers = [ref.ask(("block", gate), block=False) for (ref, _), gate in zip(busy, gates)]
    for _, actor in busy:
        assert actor.blocked.wait(WAIT)  # each on a thread of its own, held
    assert pool.threads() == 2
    waiting_ref, _ = start(pool)
    waiting = waiting_ref.ask("me too", block=False)
    assert pool.threads() == 2 and pool.waiting() == 1  # no third thread: it waits its turn
    gates[0].set()
    assert waiting.get(timeout=WAIT) == ("got", "me too")
    gates[1].set()
    assert [answer.get(timeout=WAIT) for answer in answers] == [("got", ("block", gate)) for gate in gates]
    for ref in [*(ref for ref, _ in busy), waiting_ref]:
        ref.stop()


def test_one_busy_actor_does_not_hold_the_thread_from_the_others() -> None:
    pool = TaskPool(max_threads=1, idle_seconds=5.0, name="fair")
    busy, busy_actor = start(pool)
    gate = threading.Event()
    busy.tell(("block", gate))
    assert busy_actor.blocked.wait(WAIT)  # the pool's one thread is in the busy actor's slice
    other, _ = start(pool)
    for n in range(1000):
        busy.tell(n)
    busy_seen_by_then = other.ask(("count", busy_actor), block=False)
    gate.set()
    assert busy_seen_by_then.get(timeout=WAIT) == SLICE  # the busy one's slice, then the other's turn
    assert len(busy.ask("seen", timeout=WAIT)) == 1001
    busy.stop()
    other.stop()


def test_idle_threads_end() -> None:
    pool = TaskPool(max_threads=4, idle_seconds=0.05, name="retiring")
    started = [start(pool) for _ in range(4)]
    refs = [ref for ref, _ in started]
    gate = threading.Event()
    blocked = [ref.ask(("block", gate), block=False) for ref in refs]
    for _, actor in started:
        assert actor.blocked.wait(WAIT)  # four actors blocked at once: four threads made
    assert pool.threads() == 4
    gate.set()
    for future in blocked:
        future.get(timeout=WAIT)
    for ref in refs:
        ref.stop(block=True, timeout=WAIT)
    for thread in [thread for thread in threading.enumerate() if thread.name.startswith(f"{pool.name}-")]:
        thread.join(WAIT)
    assert pool.threads() == 0
    again, _ = start(pool)  # and the pool makes threads again when work comes
    assert again.ask("back", timeout=WAIT) == ("got", "back")
    again.stop()


def test_tasks_that_block_each_get_a_thread_however_fast_they_come() -> None:
    """Threads are made one at a time (each new one makes the next while tasks wait), yet a burst of
    tasks that all block still ends with a thread each."""
    pool = TaskPool(max_threads=32, idle_seconds=5.0, name="burst")
    gate = threading.Event()
    entered = [threading.Event() for _ in range(20)]

    def task(index: int) -> bool:
        entered[index].set()
        gate.wait(WAIT)
        return False

    for index in range(20):
        pool.submit(lambda index=index: task(index))
    try:
        assert all(event.wait(WAIT) for event in entered)
        assert pool.threads() == 20
    finally:
        gate.set()


def test_actors_started_in_a_batch_go_to_the_pool_together_as_it_ends_however_it_ends(pool: TaskPool) -> None:
    started: list[pykka.ActorRef] = []
    with pytest.raises(RuntimeError), pool.batch():
        for _ in range(3):
            ref, _ = start(pool)
            ref.tell("hello")
            started.append(ref)
        assert pool.waiting() == 0 and pool.threads() == 0  # held by this thread, not yet the pool's
        raise RuntimeError("recovery failed half way")

    assert [ref.ask("seen", timeout=WAIT) for ref in started] == [["hello"]] * 3  # each started and handled
    for ref in started:
        ref.stop()
