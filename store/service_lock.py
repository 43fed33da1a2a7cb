"""Which process serves an event store: the running service holds an exclusive lock on a file beside it.

A second service on the same store would relay every message twice, so it is refused; and a command
that writes an order for the service (`run.py failover`) can tell whether one is running to act on it.
The lock is the kernel's (flock): it goes with the process, however it ends, SIGKILL included.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from store.errors import StoreError


class ServiceAlreadyRunning(StoreError):
    def __init__(self, store_path: Path) -> None:
        super().__init__(f"another service is already running on {store_path} (it holds {lock_path(store_path)})")


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".service-lock")


class ServiceLock:
    """Held from `acquire` until `release` (or the process's end)."""

    def __init__(self, store_path: Path) -> None:
        self._store_path = store_path
        self._fd: int | None = None

    def acquire(self) -> ServiceLock:
        """Raises ServiceAlreadyRunning when another process holds it."""
        fd = os.open(lock_path(self._store_path), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ServiceAlreadyRunning(self._store_path) from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def service_running(store_path: Path) -> bool:
    """Whether a service holds the store's lock now."""
    try:
        ServiceLock(store_path).acquire().release()
    except ServiceAlreadyRunning:
        return True
    return False
