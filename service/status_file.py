"""The running service's status snapshot: a small JSON file in the data folder, beside the event store.

    {"pid": 4242, "version": "0.1.0", "started_at": ..., "written_at": ..., "stopped_at": null,
     "api_url": "http://127.0.0.1:8080", "store_path": "/var/lib/connect-worker/events.db",
     "last_position": 18234,
     "regions": [{"region": "us-east-1", "secret": "srn:vault::...", "live_conversations": 12,
                  "health": {"calls": 5210, "errors": 3, ...}}],
     "live": [{"worker_id": "0b5c...", "worker_name": "support", "region": "us-east-1", "conversations": 12}],
     "store_size": {"file_bytes": 52428800, "wal_bytes": 4120032}, "delivery_lag": 0,
     "webhook_backlog": [{"client_id": "cl-0b5c...", "conversations": 1, "messages": 3, "oldest_at": ...}],
     "timers_pending": 7}

The service rewrites it every few seconds (service/status_writer.py) and one last time when it stops
(`stopped_at` set), so `run.py status` can tell a running service from a stopped or crashed one
without asking it anything. It is replaced whole (a temporary file, then `os.replace`) so a reader
never sees half of one, and written 0600 like everything in the data folder. It holds no secret:
`secret` is a vault reference, never its value. The fields after `live` came later: a file written by
an older version lacks them, and reads as None or empty.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

import msgspec

from connect_client import HealthSnapshot
from delivery.backlog import ClientBacklog
from store.file_size import StoreSize

STATUS_FILE = "status.json"


class RegionFigures(msgspec.Struct, frozen=True, kw_only=True):
    region: str
    secret: str | None
    live_conversations: int
    health: HealthSnapshot


class WorkerLive(msgspec.Struct, frozen=True, kw_only=True):
    worker_id: str
    worker_name: str | None
    region: str
    conversations: int


class ServiceStatus(msgspec.Struct, frozen=True, kw_only=True):
    pid: int
    version: str
    started_at: float
    written_at: float
    stopped_at: float | None = None
    api_url: str | None
    store_path: str
    last_position: int
    regions: list[RegionFigures]
    live: list[WorkerLive]
    store_size: StoreSize | None = None
    delivery_lag: int | None = None  # log positions the webhook deliverer's tail has not scanned
    webhook_backlog: list[ClientBacklog] = []
    timers_pending: int | None = None  # auto-disconnect timers armed in live conversations, not yet fired


class UnreadableStatus(Exception):
    pass


def status_path(store_path: Path) -> Path:
    """Where the service that writes the store at `store_path` keeps its status."""
    return store_path.parent / STATUS_FILE


def write_status(path: Path, status: ServiceStatus) -> None:
    """Replace the file at `path` with `status`, atomically, owner-only."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(descriptor, 0o600)  # a leftover temporary file keeps its mode through O_TRUNC
        file.write(msgspec.json.format(msgspec.json.encode(status)) + b"\n")
    os.replace(temporary, path)


def read_status(path: Path) -> ServiceStatus | None:
    """The status at `path`; None if there is none. Raises UnreadableStatus for a file that is not one."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UnreadableStatus(f"cannot read {path}: {error.strerror}") from None
    try:
        return msgspec.json.decode(data, type=ServiceStatus)
    except msgspec.DecodeError as error:  # ValidationError is one
        raise UnreadableStatus(f"{path} is not a status file: {error}") from None


def service_version() -> str:
    """This code's version, as installed (pyproject.toml's); "unknown" when run from a bare checkout."""
    try:
        return package_version("connect-worker")
    except PackageNotFoundError:
        return "unknown"
