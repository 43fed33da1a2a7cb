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

The pool (`threads.task_pool.TaskPool`) makes a thread when an actor is ready and no thread is idle,
up to `max_threads`; a thread idle for a while ends. So the threads alive are about the actors with
work right now (a conversation's slow Connect or tool call keeps one), not the actors alive. At the
cap, ready actors wait in the queue, in order, for the next thread to come free: nothing is lost, only
late. The threads are daemon threads: an actor left running does not keep the process from exiting
(the service stops its actors itself). An actor that waits, on its thread, for another actor's answer would hold a thread and
could, with every thread so held, wait for ever: no actor here asks another (actors/README.md).
"""

from __future__ import annotations

import collections
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pykka
from pykka import ActorDeadError, ActorRegistry, messages
from pykka._envelope import Envelope  # the inbox's message type, as pykka's own inboxes hold it

from threads.task_pool import TaskPool

_pykka_log = logging.getLogger("pykka")  # where pykka's own loop logs what an actor's messages raise

# Messages an actor handles before its thread goes to the next ready actor.
SLICE = 16
# The most threads the default pool makes: well above the conversations expected to be in a slow call
# at once (a translation waits up to 5 s), well below the ~21,500 threads a process may have.
MAX_THREADS = 512

DEFAULT_POOL = TaskPool(MAX_THREADS, name="actor")


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

    actor_pool: ClassVar[TaskPool] = DEFAULT_POOL

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
