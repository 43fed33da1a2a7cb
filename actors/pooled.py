"""pykka actors that share an elastic pool of threads: a thread only while an actor has work.

A `ThreadingActor` keeps a thread of its own for its whole life, asleep in its inbox: three memory
maps each, so a process holds at most about 21,500 of them, and starting and stopping thousands of
threads is what recovery and a service's stop spend their time on (actors/README.md, "Threads").
A `PooledActor` has the same surface (`start`, `ask`, `tell`, `stop`, proxies, the registry) and the
same semantics, but its inbox, when a message comes and the actor is not already scheduled, puts the
actor in the pool's ready queue. A pool thread then handles that actor's messages one at a time, in
order, at most `SLICE` of them, and puts the actor back at the end of the queue if more are waiting
(so one busy actor does not hold the others up), or leaves it unscheduled if none are. An actor is
in the queue or on a thread, never both and never on two threads: its messages never run at once.

The pool (`ActorPool`) makes a thread when an actor is ready and no thread is idle, up to
`max_threads`, one at a time (`_grow`); a thread idle for `idle_seconds` ends. So the threads alive
are about the actors with work right now (a conversation's slow Connect or tool call keeps one), not
the actors alive. At the cap, ready actors wait in the queue, in order, for the next thread to come
free: nothing is lost, only late. The threads are daemon threads: an actor left running does not
keep the process from exiting (the service stops its actors itself). An actor that waits, on its thread, for another actor's answer would hold a thread and
could, with every thread so held, wait for ever: no actor here asks another (actors/README.md).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any, ClassVar

import pykka
from pykka import ActorDeadError, ActorRegistry, messages
from pykka._envelope import Envelope  # the inbox's message type, as pykka's own inboxes hold it

log = logging.getLogger(__name__)
_pykka_log = logging.getLogger("pykka")  # where pykka's own loop logs what an actor's messages raise

# Messages an actor handles before its thread goes to the next ready actor.
SLICE = 16
# The most threads the default pool makes: well above the conversations expected to be in a slow call
# at once (a translation waits up to 5 s), well below the ~21,500 threads a process may have.
MAX_THREADS = 512
# How long a thread of the default pool waits for work before it ends.
IDLE_SECONDS = 10.0

_pools = count(0)


class ActorPool:
    """Runs tasks on threads made on demand, up to `max_threads`; a task returns True to be run again
    later (it goes to the back of the queue), False when it is done."""

    def __init__(self, max_threads: int = MAX_THREADS, idle_seconds: float = IDLE_SECONDS, *, name: str = "actor") -> None:
        if max_threads < 1:
            raise ValueError("an actor pool needs at least one thread")
        self._max_threads = max_threads
        self._idle_seconds = idle_seconds
        self.name = f"{name}-{next(_pools)}"
        self._ready: collections.deque[Callable[[], bool]] = collections.deque()
        self._changed = threading.Condition(threading.Lock())
        self._threads = 0
        self._idle = 0
        self._starting = False  # a thread made has not taken its first task yet
        self._made = count(0)
        self._batches = threading.local()  # `tasks`: what this thread's `batch` holds (None: none open)

    def submit(self, task: Callable[[], bool]) -> None:
        """Run `task` on a pool thread: an idle one if any, else a new one if under the cap, else the
        next one to come free (tasks are taken in the order they came). Inside `batch` on this thread,
        at the batch's end."""
        held = getattr(self._batches, "tasks", None)
        if held is not None:
            held.append(task)
            return
        self._submit_all([task])

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """The tasks this thread submits meanwhile go to the pool together as the block ends (however it
        ends): one hold of the pool's lock and one wake-up call for all of them, instead of one each.
        Recovery starts its actors so, a few dozen at a time (service/worker_service.py)."""
        if getattr(self._batches, "tasks", None) is not None:
            yield  # within a batch already: its end submits them
            return
        held: list[Callable[[], bool]] = []
        self._batches.tasks = held
        try:
            yield
        finally:
            self._batches.tasks = None
            if held:
                self._submit_all(held)

    def _submit_all(self, tasks: list[Callable[[], bool]]) -> None:
        with self._changed:
            self._ready.extend(tasks)
            if self._idle:
                self._changed.notify(min(self._idle, len(tasks)))
            grow = self._grow()
        if grow:
            self._start_thread()

    def _grow(self) -> bool:
        """Whether to make a thread (the lock held): more tasks are ready than threads idle, none is
        being made, and the cap allows one. One at a time: the new thread, once it has taken a task,
        makes the next if tasks still wait. So a caller of `submit` (the API's event loop, through
        api/loop_ask.py) starts at most one thread, a burst of tasks makes threads no faster than they
        start, and tasks that block (a slow call) still get a thread each, a thread start apart."""
        if len(self._ready) <= self._idle or self._starting or self._threads >= self._max_threads:
            return False
        self._starting = True
        self._threads += 1
        return True

    def _start_thread(self) -> None:
        threading.Thread(target=self._work, name=f"{self.name}-{next(self._made)}", daemon=True).start()

    def threads(self) -> int:
        """Threads alive now (busy or idle)."""
        with self._changed:
            return self._threads

    def waiting(self) -> int:
        """Tasks ready and waiting for a thread."""
        with self._changed:
            return len(self._ready)

    def _work(self) -> None:
        with self._changed:
            self._starting = False
        task = self._next()
        while task is not None:
            try:
                again = task()
            except BaseException:  # a task's own failures are its business: this thread goes on
                log.exception("an actor pool task failed")
                again = False
            with self._changed:
                if again:
                    self._ready.append(task)  # behind the others ready: this thread takes the first
            task = self._next()

    def _next(self) -> Callable[[], bool] | None:
        """The first ready task, waiting up to `idle_seconds` for one (None: this thread ends); if more
        wait than threads are idle, a thread is made for them."""
        with self._changed:
            while not self._ready:
                self._idle += 1
                try:
                    woken = self._changed.wait(self._idle_seconds)
                finally:
                    self._idle -= 1
                if not woken and not self._ready:  # woken, but another thread took the task: wait on
                    self._threads -= 1
                    return None
            task = self._ready.popleft()
            if self._ready and self._idle:
                # Tasks still wait (one put back after its slice, or one whose wake-up another thread
                # took): an idle thread takes the next, not only a thread made or freed later.
                self._changed.notify()
            grow = self._grow()
        if grow:
            self._start_thread()
        return task


DEFAULT_POOL = ActorPool()


class _Inbox:
    """An actor's mailbox (pykka needs only `put`: `ask`, `tell` and api/loop_ask.py put Envelopes
    here): `put` (any thread) adds a message and schedules the actor on its pool
    unless it already is; `take` (the actor's pool thread) gives the next one, or None and
    unschedules the actor in the same step, so a message put meanwhile schedules it again."""

    def __init__(self) -> None:
        self._messages: collections.deque[Envelope[Any]] = collections.deque()
        self._lock = threading.Lock()
        self._scheduled = True  # until the actor's loop starts: messages wait, nothing is scheduled
        self._schedule: Callable[[], None] | None = None

    def attach(self, schedule: Callable[[], None]) -> None:
        """The actor starts: schedule it (for `on_start`, and any message already waiting)."""
        with self._lock:
            self._schedule = schedule
        schedule()

    def put(self, envelope: Envelope[Any], /) -> None:
        with self._lock:
            self._messages.append(envelope)
            if self._scheduled:
                return
            self._scheduled = True
            schedule = self._schedule
        assert schedule is not None
        schedule()

    def take(self) -> Envelope[Any] | None:
        with self._lock:
            if self._messages:
                return self._messages.popleft()
            self._scheduled = False
            return None


class PooledActor(pykka.Actor):
    """A pykka actor run on `actor_pool`'s threads; use it as a `ThreadingActor`. `on_start`, each
    message, `on_stop` and `on_failure` run on a pool thread, one at a time; the thread may differ
    from one message to the next. Messages are handled exactly as pykka's own loop handles them
    (pykka 4.5's `Actor._actor_loop_running` and `_actor_loop_teardown`)."""

    actor_pool: ClassVar[ActorPool] = DEFAULT_POOL

    actor_inbox: _Inbox

    @staticmethod
    def _create_actor_inbox() -> _Inbox:
        return _Inbox()

    @staticmethod
    def _create_future() -> pykka.Future[Any]:
        return pykka.ThreadingFuture()

    def _start_actor_loop(self) -> None:
        self._began = False
        pool = self.actor_pool
        self.actor_inbox.attach(lambda: pool.submit(self._run_slice))

    def _run_slice(self) -> bool:
        """On a pool thread, the actor scheduled: `on_start` the first time, then up to SLICE messages.
        True: more are waiting (run again later); False: the actor is unscheduled (or stopped)."""
        if not self._began:
            self._began = True
            self._actor_loop_setup()
        for _ in range(SLICE):
            if self.actor_stopped.is_set():
                self._answer_dead()
                return False
            envelope = self.actor_inbox.take()
            if envelope is None:
                return False
            self._handle_envelope(envelope)
        if self.actor_stopped.is_set():
            self._answer_dead()
            return False
        return True

    def _handle_envelope(self, envelope: Envelope[Any]) -> None:
        """One message, as pykka's loop handles it: the answer or the exception to an asker; a failing
        `tell` logs, stops the actor and calls `on_failure`; a BaseException stops every actor."""
        try:
            response = self._handle_receive(envelope.message)
            if envelope.reply_to is not None:
                envelope.reply_to.set(response)
        except Exception:
            if envelope.reply_to is not None:
                _pykka_log.info(f"Exception returned from {self} to caller:", exc_info=sys.exc_info())
                envelope.reply_to.set_exception()
            else:
                self._handle_failure(*sys.exc_info())
                try:
                    self.on_failure(*sys.exc_info())
                except Exception:  # noqa: BLE001
                    self._handle_failure(*sys.exc_info())
        except BaseException:  # noqa: BLE001
            _pykka_log.debug(f"{sys.exc_info()[1]!r} in {self}. Stopping all actors.")
            self._stop()
            ActorRegistry.stop_all()

    def _answer_dead(self) -> None:
        """The actor has stopped: every message left (or put since, by a sender that saw it alive just
        before) is answered as pykka's teardown answers it, and the actor is left unscheduled."""
        while (envelope := self.actor_inbox.take()) is not None:
            if envelope.reply_to is None:
                continue
            if isinstance(envelope.message, messages._ActorStop):  # noqa: SLF001
                envelope.reply_to.set(None)
            else:
                error = ActorDeadError(f"{self.actor_ref} stopped before handling the message")
                envelope.reply_to.set_exception(exc_info=(ActorDeadError, error, None))
