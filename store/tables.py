"""Tables of the event store's SQLite file, made with sqlite-utils only when one is missing.

    ensure_tables(conn, {"api_clients", "api_clients_token"}, make_clients_table)

sqlite-utils makes the tables (typed columns, STRICT, the indexes), but importing it costs about a
tenth of a restart's imports: it loads its plugins and, where they are installed, numpy and pandas.
A file already made, the usual case at every start after the first, is opened with one look at
`sqlite_master` and without sqlite-utils; a restart that resumes thousands of conversations starts
reconnecting them that much sooner.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


def missing(conn: sqlite3.Connection, names: Collection[str]) -> set[str]:
    """Which of the tables and indexes `names` the file does not have."""
    placeholders = ", ".join("?" for _ in names)
    present = {
        name
        for (name,) in conn.execute(
            f"SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name IN ({placeholders})",
            tuple(names),
        )
    }
    return set(names) - present


def ensure_tables(conn: sqlite3.Connection, names: Collection[str], make: Callable[[Database], None]) -> None:
    """Run `make` (which creates `names`, tables and indexes, each "if not exists") unless the file has
    them all already. Two processes making them at once both run `make`, which is why it must not fail
    on what the other one made."""
    if not missing(conn, names):
        return
    from sqlite_utils import Database  # only here: see the module's docstring

    make(Database(conn))
