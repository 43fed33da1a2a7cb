"""Whether the service is ready for bots: what `GET /readyz` answers, for load balancers and systemd.

    >>> readiness = Readiness(service, WriteProbe(store.path))
    >>> readiness.problem()      # None: ready; else why not, in words that name no path nor secret
    'the event store cannot be written: database or disk is full'

Ready means: the event store's writer is running, the store's file took a write a moment ago
(store/write_probe.py), and recovery has not failed. Recovery under way after a start does not hold
readiness back: the bots' routes serve while it runs, a conversation not yet resumed being started
from its log by the call that needs it (service/worker_service.py). The write is made at most once every `interval` seconds whoever asks, so
probes from several load balancers cost one small commit per interval between them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from service.worker_service import WorkerService
from store.write_probe import WriteProbe

DEFAULT_INTERVAL = 2.0
RECOVERY_FAILED = "recovering the live conversations failed"


class Readiness:
    def __init__(
        self,
        service: WorkerService,
        probe: WriteProbe,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._service = service
        self._probe = probe
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._probed_at: float | None = None
        self._written: str | None = None

    def problem(self) -> str | None:
        """None when ready; else why not. Blocks for the probe's write when one is due."""
        if self._service.recovery_failed:
            return RECOVERY_FAILED
        if not self._service.store.writer_running():
            return "the event store's writer has stopped"
        with self._lock:
            now = self._clock()
            if self._probed_at is None or now - self._probed_at >= self._interval:
                self._written = self._probe.check()
                self._probed_at = now
            written = self._written
        return None if written is None else f"the event store cannot be written: {written}"

    def close(self) -> None:
        self._probe.close()
