"""The garbage collector of the long-running service (`serve`, the embedded default), set once at start-up.

Almost everything the service frees goes by reference counting; the cyclic collector only finds
cycles. CPython's default thresholds (700, 10, 10) run a young collection every 700 allocations
net of frees, and a full collection, which walks every tracked object of the process, once enough
objects have survived into the oldest generation: with 1,000 conversations that walk took 110-670
ms with the GIL held (up to 4.2 s at 5,000), every thread of the process standing still meanwhile,
and the collector was 3.6 % of the service's CPU (8.5 % at 5,000; 1.1 % and 1.4 % with what follows:
bench/README.md, "Less CPU per message and faster recovery").

- `YOUNG_THRESHOLD`: a young collection every 50,000 allocations instead of 700. Each one walks
  only the young objects (about 0.7 ms of CPU each at 1,000 conversations), and far fewer of them promote
  short-lived objects (a request's, a message's) into the older generations, which is what
  brings the full collections on.
- `gc.freeze()` once recovery has started every live conversation and their sockets' burst of
  reconnections is over (the socket hub has had no blocking call for `BURST_QUIET` seconds, or
  `BURST_WAIT` seconds have passed): what exists then (the modules, botocore's service models, the
  recovered conversations' actors and connected sockets) moves to a permanent generation that no
  collection walks again. The full collection before it holds the GIL while it walks every
  object: 0.18 s of CPU at 1,000 recovered conversations, but 1.7 s of wall time on a loaded
  machine, where the collecting thread is taken off the CPU with the GIL held and no other thread
  runs (1.6 s at 5,000). Made as soon as the actors had started, it stood in the middle of the
  reconnections and delayed every one of them (bench/README.md, "Recovery after SIGKILL: where the
  CPU goes, and the freeze after the burst"). A frozen object is still freed by reference
  counting; only a cycle among frozen objects is never collected, and there is one freeze per
  process, so at most what the start-up left is kept, never a growing amount.

Not in `running_service`: the tests start many services in one process, which must not keep
what each froze.

`run.py connect-local` collects less too (it never freezes: its chats come after its start). It holds
every chat it serves, and with CPython's thresholds its full collections, each stopping every
socket and call it serves, took 0.7-0.8 s at 5,000 chats, every few minutes of a soak (bench/README.md,
"The soak on a quiet machine, with the day's changes").
"""

from __future__ import annotations

import gc
import logging
import threading

from connect_client.socket_hub import SocketHub, default_hub
from service.worker_service import WorkerService

log = logging.getLogger(__name__)

YOUNG_THRESHOLD = 50_000
# Seconds without a reconnection call under way that end the burst after recovery; and how long the
# freeze waits for that at most (a region's outage can keep sockets reconnecting for minutes).
BURST_QUIET = 0.5
BURST_WAIT = 120.0


def collect_less() -> None:
    """Young collections every `YOUNG_THRESHOLD` allocations (the older generations' own thresholds as they are)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def freeze_when_recovered(
    service: WorkerService, hub: SocketHub | None = None, quiet: float = BURST_QUIET
) -> threading.Thread:
    """On a thread of its own: once `service` has recovered and its sockets' reconnections are over
    (`hub`: theirs, the process's shared one by default), collect what start-up left as garbage and
    freeze the rest. A recovery that fails freezes nothing (the thread is a daemon: a service stopped
    before it recovered leaves it waiting until the process ends)."""

    def freeze() -> None:
        while not service.wait_recovered(timeout=1.0):
            if service.recovery_failed:
                return
        (hub or default_hub()).wait_idle(quiet, timeout=BURST_WAIT)
        gc.collect()
        gc.freeze()
        log.info("garbage collector: %d objects frozen after recovery", gc.get_freeze_count())

    thread = threading.Thread(target=freeze, name="gc-freeze", daemon=True)
    thread.start()
    return thread
