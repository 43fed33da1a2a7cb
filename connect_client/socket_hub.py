"""One thread that serves every chat socket of the process, and a bounded pool for their blocking calls.

The hub thread waits in `select` for frames on every socket and for the
nearest deadline (heartbeat ticks, renewals, retry waits); whatever it runs
must not block. The steps that do (CreateParticipantConnection, opening a
WebSocket, GetTranscript) go to a bounded thread pool with `run_blocking`,
and their outcome comes back to the hub thread. So a process holds a few
threads for any number of sockets, and the number of threads contending for
the GIL stays bounded however many chats are open (the load benchmark showed
a thread per socket collapsing under its own GIL contention at a few
thousand).

    >>> hub = SocketHub(workers=16).start()
    >>> hub.call_soon(lambda: print("on the hub thread"))
    >>> timer = hub.call_later(10.0, tick)
    >>> timer.cancel()
    >>> hub.run_blocking(lambda: client.call(), then=lambda result, error: ...)
    >>> hub.watch(sock, on_readable)
    >>> hub.wait_idle(quiet=0.5, timeout=60)   # no blocking call for half a second: a burst is over
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from retry.due_heap import DueHeap
from threads.task_pool import TaskPool

log = logging.getLogger(__name__)

T = TypeVar("T")
# A call mostly waits for Amazon Connect's answer, and a restart reconnects every live chat at once:
# with 4 threads and a real region's round trip, recovery took several times the bare calls.
# Threads are made only as calls queue up, and end when idle (connect_client/README.md, "Threading model").
DEFAULT_WORKERS = 32


def _nothing() -> None:
    pass


class Timer:
    """A `call_later`; `cancel()` it from the hub thread or any other. Once it has fired it counts as cancelled.

    A cancelled timer cannot leave the hub's heap at once, so cancelling lets go of its callback at
    once: what the callback holds (a dropped socket's session, its connection, its frames) is freed
    then, not at its due time (a socket's renewal: up to an hour). The heap itself is rebuilt without
    its cancelled timers once they are more than half of it (`retry/due_heap.py`): every chat that
    ends cancels its socket's renewal."""

    __slots__ = ("callback", "cancelled", "_hub")

    def __init__(self, callback: Callable[[], None], hub: SocketHub) -> None:
        self.callback = callback
        self.cancelled = False
        self._hub = hub

    def cancel(self) -> None:
        self._hub._cancel(self)


class SocketHub:
    """The event loop of the chat sockets: readiness, timers, and a pool for blocking calls."""

    def __init__(self, workers: int = DEFAULT_WORKERS, name: str = "socket-hub") -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._soon: deque[Callable[[], None]] = deque()
        self._soon_lock = threading.Lock()
        self._timers: DueHeap[Timer] = DueHeap(_spent)
        self._timers_lock = threading.Lock()  # a timer may be cancelled from any thread
        # Daemon threads: a stopped process does not wait for a call a hung region holds (threads/task_pool.py).
        self._pool = TaskPool(workers, name=f"{name}-call")
        # Blocking calls queued or running, and since when there has been none (`wait_idle`).
        self._calls = 0
        self._idle_since = time.monotonic()
        self._calls_changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._stopping = False

    def start(self) -> SocketHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self._wake()
        self._thread.join(timeout=5)

    def on_hub_thread(self) -> bool:
        return threading.current_thread() is self._thread

    # -- from any thread ---------------------------------------------------

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the hub thread, after what is already queued.

        Only the first callback of a batch wakes the hub: the others find the queue not empty, so the
        hub has not taken it yet (`_run_soon` empties it under the same lock) and runs them with the
        first. A recovery's burst reports thousands of calls from the pool while the hub is busy;
        each wake is a system call on the calling thread and another pass of the hub's `select`."""
        with self._soon_lock:
            self._soon.append(callback)
            first = len(self._soon) == 1
        if first:
            self._wake()

    def run_blocking(self, call: Callable[[], T], then: Callable[[T | None, BaseException | None], None]) -> None:
        """Run `call` on the pool; `then(result, None)` or `then(None, error)` runs on the hub thread.
        Raises RuntimeError once the hub has stopped; a call still queued then is not made. Asked for
        on the hub thread itself after the stop (a timer or callback of the hub's last pass: a chat
        socket reconnecting or renewing), it is dropped quietly: its `then` could never run."""

        def work() -> bool:
            try:
                if self._stopping:
                    return False
                try:
                    result = call()
                except BaseException as error:  # noqa: BLE001 - handed to `then`, which decides
                    self.call_soon(lambda failure=error: then(None, failure))
                else:
                    self.call_soon(lambda: then(result, None))
                return False
            finally:
                self._call_ended()

        if self._stopping:
            if self.on_hub_thread():
                return
            raise RuntimeError("the socket hub has stopped")
        with self._calls_changed:
            self._calls += 1
        self._pool.submit(work)

    def _call_ended(self) -> None:
        with self._calls_changed:
            self._calls -= 1
            if not self._calls:
                self._idle_since = time.monotonic()
                self._calls_changed.notify_all()

    def wait_idle(self, quiet: float = 0.0, timeout: float | None = None) -> bool:
        """Wait until no blocking call has been queued or running for `quiet` seconds (a burst of
        reconnections is over); whether that came before `timeout` seconds passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._calls_changed:
            while True:
                now = time.monotonic()
                idle_left = None if self._calls else self._idle_since + quiet - now
                if idle_left is not None and idle_left <= 0:
                    return True
                if deadline is not None and now >= deadline:
                    return False
                waits = [left for left in (idle_left, None if deadline is None else deadline - now) if left is not None]
                self._calls_changed.wait(min(waits) if waits else None)

    # -- from the hub thread -----------------------------------------------

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(callback, self)
        with self._timers_lock:
            self._timers.push(time.monotonic() + max(0.0, delay), timer)
        return timer

    def _cancel(self, timer: Timer) -> None:
        with self._timers_lock:
            if timer.cancelled:  # already cancelled, or fired
                return
            timer.cancelled = True
            timer.callback = _nothing
            self._timers.cancelled()

    def watch(self, sock: Any, on_readable: Callable[[], None]) -> None:
        self._selector.register(sock, selectors.EVENT_READ, on_readable)

    def unwatch(self, sock: Any) -> None:
        try:
            self._selector.unregister(sock)
        except (KeyError, ValueError):
            pass  # never watched, or already closed

    # -- the loop ----------------------------------------------------------

    def _wake(self) -> None:
        try:
            self._wake_writer.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # a wake-up is already pending (or the hub is gone)

    def _run(self) -> None:
        while not self._stopping:
            for key, _ in self._selector.select(self._next_wait()):
                if key.data is None:
                    self._drain_wakes()
                else:
                    self._guarded(key.data)
            self._run_due_timers()
            self._run_soon()
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _next_wait(self) -> float | None:
        with self._soon_lock:
            if self._soon:
                return 0.0
        with self._timers_lock:
            due = self._timers.earliest()
        return None if due is None else max(0.0, due - time.monotonic())

    def _drain_wakes(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _run_due_timers(self) -> None:
        now = time.monotonic()
        while True:
            with self._timers_lock:
                timer = self._timers.pop_due(now)
                if timer is None:
                    return
                callback, timer.callback, timer.cancelled = timer.callback, _nothing, True  # spent: its owner may drop it
            self._guarded(callback)

    def _run_soon(self) -> None:
        with self._soon_lock:
            ready, self._soon = self._soon, deque()
        for callback in ready:
            self._guarded(callback)

    @staticmethod
    def _guarded(callback: Callable[[], None]) -> None:
        """A failing callback is a bug in one socket; the hub serves the others on."""
        try:
            callback()
        except Exception:
            log.exception("a chat socket callback failed on the hub")


def _spent(timer: Timer) -> bool:
    return timer.cancelled


_default: SocketHub | None = None
_default_lock = threading.Lock()


def default_hub() -> SocketHub:
    """The process's shared hub, started on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SocketHub().start()
        return _default
