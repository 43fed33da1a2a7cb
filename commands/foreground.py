"""Running a service in the foreground until the operator stops it."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """From now on SIGINT and SIGTERM set the returned event instead of ending the process. Call it
    before the ready file is written: a stop asked the moment the service says it is ready must be
    a clean one (exit 0), not the signal's default death."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
