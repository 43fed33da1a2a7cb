"""The hub: callbacks, timers and blocking calls all land on its one thread, in order."""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from connect_client.socket_hub import SocketHub, Timer
from retry.due_heap import COMPACT_AT
from tests.service.harness import wait_for

WAIT = 5.0
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub() -> Iterator[SocketHub]:
    hub = SocketHub(workers=2, name="test-hub").start()
    yield hub
    hub.stop()


def test_calls_from_other_threads_run_on_the_hub_in_order(hub: SocketHub) -> None:
    seen: queue.Queue[tuple[int, bool]] = queue.Queue()
    for number in range(3):
        hub.call_soon(lambda number=number: seen.put((number, hub.on_hub_thread())))

    assert [seen.get(timeout=WAIT) for _ in range(3)] == [(0, True), (1, True), (2, True)]


def test_timers_fire_by_due_time_and_a_cancelled_one_never(hub: SocketHub) -> None:
    fired: queue.Queue[str] = queue.Queue()

    def arm() -> None:
        hub.call_later(0.06, lambda: fired.put("late"))
        hub.call_later(0.02, lambda: fired.put("early"))
        hub.call_later(0.04, lambda: fired.put("cancelled")).cancel()

    hub.call_soon(arm)

    assert [fired.get(timeout=WAIT), fired.get(timeout=WAIT)] == ["early", "late"]
    assert fired.empty()


def test_a_blocking_call_runs_on_the_pool_and_reports_on_the_hub(hub: SocketHub) -> None:
    outcomes: queue.Queue[tuple[object, object, bool, bool]] = queue.Queue()

    def call() -> str:
        return "on the pool" if not hub.on_hub_thread() else "on the hub"

    def fail() -> str:
        raise ValueError("refused")

    for work in (call, fail):
        hub.run_blocking(work, lambda result, error: outcomes.put((result, error, hub.on_hub_thread(), True)))

    results = [outcomes.get(timeout=WAIT) for _ in range(2)]
    assert ("on the pool", None, True, True) in results
    [(result, error, on_hub, _)] = [outcome for outcome in results if outcome[1] is not None]
    assert result is None and isinstance(error, ValueError) and on_hub


def test_a_failing_callback_leaves_the_hub_serving(hub: SocketHub) -> None:
    after = threading.Event()

    def broken() -> None:
        raise RuntimeError("a bug in one socket")

    hub.call_soon(broken)
    hub.call_soon(after.set)

    assert after.wait(WAIT)


def test_a_watched_socket_is_read_on_the_hub_when_data_arrives(hub: SocketHub) -> None:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    got: queue.Queue[bytes] = queue.Queue()
    try:
        hub.call_soon(lambda: hub.watch(ours, lambda: got.put(ours.recv(100))))
        theirs.send(b"frame")
        assert got.get(timeout=WAIT) == b"frame"
        hub.call_soon(lambda: hub.unwatch(ours))
    finally:
        ours.close()
        theirs.close()


def test_a_fired_timer_counts_as_spent_so_its_owner_can_drop_it(hub: SocketHub) -> None:
    fired = threading.Event()
    timers = []
    hub.call_soon(lambda: timers.append(hub.call_later(0.0, fired.set)))

    assert fired.wait(WAIT)
    assert timers[0].cancelled


def test_idle_only_once_no_blocking_call_is_queued_or_running(hub: SocketHub) -> None:
    assert hub.wait_idle(timeout=WAIT)  # none yet
    held = threading.Event()
    reported = threading.Event()
    for _ in range(3):  # two run, one waits in the queue
        hub.run_blocking(lambda: held.wait(WAIT), lambda result, error: reported.set())

    assert not hub.wait_idle(timeout=0.05)
    held.set()
    assert hub.wait_idle(timeout=WAIT)
    assert reported.wait(WAIT)


def test_idle_waits_for_the_quiet_time_after_the_last_call(hub: SocketHub) -> None:
    done = threading.Event()
    hub.run_blocking(lambda: None, lambda result, error: done.set())
    assert done.wait(WAIT) and hub.wait_idle(timeout=WAIT)

    assert not hub.wait_idle(quiet=600.0, timeout=0.05)  # the call ended less than 600 s ago


def test_a_call_on_a_stopped_hub_is_refused_and_leaves_it_idle() -> None:
    hub = SocketHub(workers=1, name="stopped-hub").start()
    hub.stop()

    with pytest.raises(RuntimeError):
        hub.run_blocking(lambda: None, lambda result, error: None)
    assert hub.wait_idle(timeout=WAIT)


def test_a_call_still_queued_when_the_hub_stops_is_not_made() -> None:
    hub = SocketHub(workers=1, name="one-thread-hub").start()
    release = threading.Event()
    made: list[str] = []
    hub.run_blocking(lambda: release.wait(WAIT), lambda result, error: None)  # holds the one thread
    hub.run_blocking(lambda: made.append("queued"), lambda result, error: None)

    hub.stop()
    release.set()

    assert hub.wait_idle(timeout=WAIT)
    assert made == []


def test_a_call_asked_for_in_the_hubs_last_pass_after_the_stop_is_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A chat socket's timer or callback that runs in the hub's last pass (reconnecting, renewing) asks
    # for a call after stop() began: nothing can report it any more, and it is no failure to log.
    hub = SocketHub(workers=1, name="last-pass-hub").start()
    inside, release = threading.Event(), threading.Event()
    made: list[str] = []
    hub.call_soon(lambda: (inside.set(), release.wait(WAIT)))
    hub.call_soon(lambda: hub.run_blocking(lambda: made.append("call"), lambda result, error: None))
    assert inside.wait(WAIT)  # the hub is in its pass, the second callback behind the first

    stopper = threading.Thread(target=hub.stop)
    stopper.start()
    wait_for(lambda: hub._stopping, "stop() to begin", timeout=WAIT)  # noqa: SLF001
    release.set()
    stopper.join(WAIT)

    assert hub.wait_idle(timeout=WAIT)
    assert made == []
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


HUNG_CALL_THEN_EXIT = """
import threading
from connect_client.socket_hub import SocketHub

hub = SocketHub(workers=2, name="hung-hub").start()
started = threading.Event()
hub.run_blocking(lambda: (started.set(), threading.Event().wait()), lambda result, error: None)
started.wait()
hub.stop()
print("stopped", flush=True)
"""


def test_a_process_exits_without_waiting_for_a_call_a_hung_region_holds() -> None:
    # A region that hangs holds a call for the client's whole read timeout, tried again; the process of
    # a stopped service must not wait for it (what the call was for is redone from the log).
    child = subprocess.Popen([sys.executable, "-c", HUNG_CALL_THEN_EXIT], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "stopped\n"
        assert child.wait(timeout=60) == 0  # the call never ends: a process that waits for it never exits
    finally:
        child.kill()
        child.wait()


def test_a_cancelled_timer_lets_go_of_its_callback_at_once(hub: SocketHub) -> None:
    # A dropped socket cancels its renewal timer, due in up to an hour; the session the timer's callback
    # holds must be freed now, not when the timer's time comes.
    class Session:
        pass

    held: queue.Queue[weakref.ref[Session]] = queue.Queue()
    done = threading.Event()

    def arm_and_cancel() -> None:
        session = Session()
        held.put(weakref.ref(session))
        hub.call_later(1800.0, lambda: None)  # due sooner: the cancelled timer is not the heap's first
        hub.call_later(3600.0, lambda: print(session)).cancel()

    hub.call_soon(arm_and_cancel)
    hub.call_soon(done.set)

    session = held.get(timeout=WAIT)
    assert done.wait(WAIT)
    assert session() is None


def test_renewals_cancelled_as_chats_end_keep_the_heap_bounded(hub: SocketHub) -> None:
    """Every chat that ends cancels its socket's renewal, due up to an hour later: 10,000 ended chats
    leave a heap about twice the timers still to run, not 10,000 entries for an hour. Armed on the hub
    thread, cancelled from this one, as a timer may be."""
    armed: queue.Queue[list[Timer]] = queue.Queue()
    hub.call_soon(lambda: armed.put([hub.call_later(3600.0, lambda: None) for _ in range(10_001)]))
    live, *renewals = armed.get(timeout=WAIT)
    for renewal in renewals:
        renewal.cancel()

    assert hub._timers.size() <= 2 * COMPACT_AT
    assert len(hub._timers) == 1 and not live.cancelled


def test_calls_queued_while_the_hub_is_busy_wake_it_once(hub: SocketHub) -> None:
    """Only the call that finds the queue empty wakes the hub; the ones behind it run in the same pass."""
    busy, release, ran = threading.Event(), threading.Event(), queue.Queue()
    hub.call_soon(lambda: (busy.set(), release.wait(WAIT)))
    assert busy.wait(WAIT)
    wakes = []
    wake = hub._wake
    hub._wake = lambda: (wakes.append(1), wake())  # type: ignore[method-assign]
    for number in range(50):
        hub.call_soon(lambda number=number: ran.put(number))
    release.set()

    assert [ran.get(timeout=WAIT) for _ in range(50)] == list(range(50))
    assert len(wakes) == 1
