"""What one group commit wrote, handed to the store's followers right after its COMMIT.

The writer already holds the rows it inserted as one flat list (five values an
event: stream, seq, type, data, recorded_at); a `CommittedBatch` keeps that
list and the last position, so the hand-off costs the writer one small object
and no copy. The rows of a batch have consecutive positions: positions are
SQLite's rowid (max + 1 at each insert), the writer holds the database's write
lock from BEGIN to COMMIT, and nothing is ever deleted. The follower builds the
`StoredEvent`s on its own thread (`events`).
"""

from __future__ import annotations

from store.records import StoredEvent

COLUMNS = 5  # stream, seq, type, data, recorded_at


class CommittedBatch:
    """The events of one COMMIT, positions `first_position` to `last_position`, in commit order."""

    __slots__ = ("first_position", "last_position", "_values")

    def __init__(self, last_position: int, values: list[str | int | bytes | float]) -> None:
        self._values = values
        self.last_position = last_position
        self.first_position = last_position - len(values) // COLUMNS + 1

    def __len__(self) -> int:
        return len(self._values) // COLUMNS

    def events(self, after_position: int = 0) -> list[StoredEvent]:
        """The batch's events whose position is after `after_position`."""
        start = max(after_position + 1, self.first_position) - self.first_position
        values = self._values
        return [
            StoredEvent(values[i], values[i + 1], self.first_position + n, values[i + 2], values[i + 3], values[i + 4])
            for n, i in enumerate(range(start * COLUMNS, len(values), COLUMNS), start=start)
        ]
