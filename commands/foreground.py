"""Running a service in the foreground until the operator stops it."""

from __future__ import annotations

import signal
import threading


def wait_until_signalled() -> None:
    """Block until SIGINT or SIGTERM arrives."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
