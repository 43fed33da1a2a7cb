"""The typed errors of the event store."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base of every error the event store raises."""


class ConcurrencyConflict(StoreError):
    """An append expected a stream version that is no longer the stream's.

    Nothing of the append was written; read the stream again and decide anew.
    """

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream!r} is at version {actual}, the append expected {expected}"
        )
        self.stream = stream
        self.expected = expected
        self.actual = actual


class StreamClosed(StoreError):
    """An append was made to a stream that an earlier append closed."""

    def __init__(self, stream: str) -> None:
        super().__init__(f"stream {stream!r} is closed; nothing more can be appended")
        self.stream = stream


class EventStoreClosed(StoreError):
    """The store was used after `close()`."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"event store {path} is closed")
        self.path = path


class StoreWriteFailed(StoreError):
    """The batch holding an append could not be committed. In SQLite nothing of it was written. In
    DynamoDB, after an error other than a cancelled transaction (a timeout, a server error) it is not
    known whether the transaction was applied: whoever appends to the stream next reads it again first
    (a conversation's actor that meets this falls and is started again from its stream)."""

    def __init__(self, stream: str, cause: BaseException) -> None:
        super().__init__(f"append to stream {stream!r} failed: {cause}")
        self.stream = stream


class StoreFileError(StoreError):
    """The file at `path` cannot be used as an event store; it was left untouched."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"event store {path}: {reason}")
        self.path = path
        self.reason = reason


class CorruptDatabase(StoreFileError):
    """The file is not an SQLite database, or its pages are damaged."""


class ForeignDatabase(StoreFileError):
    """The file is an SQLite database that some other program made."""

    def __init__(self, path: Path, tables: list[str]) -> None:
        super().__init__(
            path,
            "is an SQLite database but not an event store "
            f"(it holds tables {', '.join(sorted(tables))})",
        )
        self.tables = tables


class FutureSchemaVersion(StoreFileError):
    """The file was written by a newer version of this program."""

    def __init__(self, path: Path, found: int, supported: int) -> None:
        super().__init__(
            path,
            f"has schema version {found}, this program knows versions up to "
            f"{supported}; upgrade the program instead",
        )
        self.found = found
        self.supported = supported


class LeaseLost(StoreError):
    """A fenced append's lease is no longer its node's (another node took it, with a larger token).

    Nothing of the append was written; the node must stop acting for the stream.
    """

    def __init__(self, stream: str, lease: str, owner: str, token: int) -> None:
        super().__init__(f"append to stream {stream!r} refused: node {owner!r} no longer holds lease {lease!r} at token {token}")
        self.stream = stream
        self.lease = lease
        self.owner = owner
        self.token = token
