"""An elastic pool of daemon threads: a thread only while there is work, none kept at exit.

    pool = TaskPool(32, name="socket-hub-call")
    pool.submit(task)    # task() -> bool: True to be run again later, behind the others; False when done

It makes a thread when a task is ready and no thread is idle, up to `max_threads`, one at a time
(`_grow`); a thread idle for `idle_seconds` ends. So the threads alive are about the tasks under way
now, not the most there ever were (a `ThreadPoolExecutor` keeps every thread it made). At the cap,
ready tasks wait in the queue, in order, for the next thread to come free: nothing is lost, only late.

The threads are daemon threads: a process exits without waiting for a task under way. That is the
point for what runs here (a conversation actor's messages: actors/pooled.py; a chat socket's blocking
calls: connect_client/socket_hub.py; a chat leave: service/worker_service.py): such a task may wait
on a region that hangs for a client's whole timeout, tried again, and what it was doing is in the
log as an intent and is redone at the next start. A `ThreadPoolExecutor`'s threads are joined as the
interpreter ends, however it was shut down, so a stopped service waited for them.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from itertools import count

log = logging.getLogger(__name__)

# How long a thread waits for work before it ends.
IDLE_SECONDS = 10.0

_pools = count(0)


class TaskPool:
    """Runs tasks on threads made on demand, up to `max_threads`; a task returns True to be run again
    later (it goes to the back of the queue), False when it is done."""

    def __init__(self, max_threads: int, idle_seconds: float = IDLE_SECONDS, *, name: str) -> None:
        if max_threads < 1:
            raise ValueError("a task pool needs at least one thread")
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
        """A thread the process cannot start (its limit of threads, or of memory) is given up and
        logged: the pool makes the next one when a task is submitted or taken again, and the tasks
        wait in the queue meanwhile (none is lost, and the pool is never left unable to grow)."""
        try:
            threading.Thread(target=self._work, name=f"{self.name}-{next(self._made)}", daemon=True).start()
        except RuntimeError:
            log.error("%s: a thread could not be started; the ready tasks wait for the next", self.name, exc_info=True)
            with self._changed:
                self._starting = False
                self._threads -= 1

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
                log.exception("a %s task failed", self.name)
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
