"""Tables made with sqlite-utils only when the file lacks one of them (store/tables.py)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlite_utils import Database

from store.tables import ensure_tables, missing

REPO = Path(__file__).resolve().parents[2]
NAMES = {"notes", "notes_by_title"}


def make_notes(db: Database) -> None:
    db["notes"].create({"id": int, "title": str}, pk="id", if_not_exists=True)
    db["notes"].create_index(["title"], index_name="notes_by_title", if_not_exists=True)


def test_a_new_file_gets_its_tables_and_indexes(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.db")
    ensure_tables(conn, NAMES, make_notes)
    assert missing(conn, NAMES) == set()
    conn.execute("INSERT INTO notes (id, title) VALUES (1, 'hello')")


def test_a_file_that_has_them_all_is_left_as_it_is(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.db")
    ensure_tables(conn, NAMES, make_notes)
    made: list[Database] = []
    ensure_tables(conn, NAMES, made.append)
    assert made == []


def test_a_file_missing_only_an_index_gets_it(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.db")
    ensure_tables(conn, NAMES, make_notes)
    conn.execute("DROP INDEX notes_by_title")
    assert missing(conn, NAMES) == {"notes_by_title"}
    ensure_tables(conn, NAMES, make_notes)
    assert missing(conn, NAMES) == set()


OPEN_EVERY_TABLE = """
import sys
from pathlib import Path
from delivery.checkpoint import Checkpoints
from store import EventStore
from store.clients import ClientRegistry

path = Path(sys.argv[1])
with EventStore.open(path):
    ClientRegistry(path)
    Checkpoints(path)
print("sqlite_utils" in sys.modules)
"""


def opens_with_sqlite_utils(path: Path) -> bool:
    """In a fresh process (this one has sqlite-utils already): whether opening the store's file and
    its clients' and deliveries' tables imported sqlite-utils."""
    answer = subprocess.run(
        [sys.executable, "-c", OPEN_EVERY_TABLE, str(path)], capture_output=True, text=True, check=True, cwd=REPO
    )
    return answer.stdout.strip() == "True"


def test_a_restart_on_a_made_file_does_not_import_sqlite_utils(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    assert opens_with_sqlite_utils(path)  # the first start makes the tables
    assert not opens_with_sqlite_utils(path)
