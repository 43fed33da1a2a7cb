"""A pass run again and again on a daemon thread of its own, until stopped: the one loop behind the
service's background work (failover orders, automatic failover, the status file)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """`run_pass` every `interval` seconds (the first pass at once, or after the first interval); a
    pass that raises is logged as `what` and the next one runs all the same."""

    def __init__(self, what: str, run_pass: Callable[[], object], interval: float, *, at_once: bool = True) -> None:
        self._what = what
        self._run_pass = run_pass
        self._interval = interval
        self._at_once = at_once
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=what.replace(" ", "-"), daemon=True)

    def start(self) -> Periodic:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop and wait (at most `timeout`) for the pass under way to end."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        if not self._at_once and self._stopping.wait(self._interval):
            return
        while True:
            try:
                self._run_pass()
            except Exception:  # noqa: BLE001 - the loop must outlive one bad pass; it tries again
                log.exception("%s: a pass failed; trying again", self._what)
            if self._stopping.wait(self._interval):
                return
