"""What every event store offers, whatever keeps the log: the SQLite file (`EventStore`) or a DynamoDB
table (`DynamoEventStore`). The service, delivery and the commands use only this."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from store.observer import StoreObserver
from store.records import NewEvent, StoredEvent, StoreStats

if TYPE_CHECKING:
    from store.leases import Lease


@runtime_checkable
class EventLog(Protocol):
    """Streams of events appended with optimistic concurrency, and one order of every stream's events.

    store/README.md says what each call does; docs/dynamodb-store.md how the DynamoDB one keeps the
    same promises.
    """

    @property
    def path(self) -> Path:
        """The local SQLite file that holds what is not the log (API clients, delivery checkpoints,
        the local vault) and names the service lock and status file beside it."""

    def append(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected_version: int,
        *,
        closes_stream: bool = False,
        fence: Lease | None = None,
    ) -> int: ...

    def read_stream(self, stream: str, *, after_seq: int = 0, until_seq: int | None = None) -> list[StoredEvent]: ...

    def stream_version(self, stream: str) -> int: ...

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]: ...

    def last_position(self) -> int: ...

    def wait_for_position(self, after: int, timeout: float) -> bool: ...

    def open_streams(self, prefix: str = "") -> list[str]: ...

    def stream_versions(self, prefix: str) -> dict[str, int]: ...

    def stats(self) -> StoreStats: ...

    def writer_running(self) -> bool: ...

    def watch(self, observer: StoreObserver | None) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> EventLog: ...

    def __exit__(self, *exc_info: object) -> None: ...
