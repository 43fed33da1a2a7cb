"""`run.py store backup DEST`: what it says when it made the copy, and when it will not."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from store import EventStore, NewEvent
from tests.support.cli import cli


def test_it_prints_the_file_it_wrote_its_size_and_last_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "data" / "events.db"
    db.parent.mkdir()
    with EventStore.open(db) as store:
        store.append("conversation-1", [NewEvent("Transferred", b"{}"), NewEvent("Said", b"{}")], 0)
    backup = tmp_path / "events-backup.db"

    code, out, err = cli(capsys, "store", "backup", str(backup), "--db", str(db))

    assert (code, err) == (0, "")
    size = backup.stat().st_size
    assert out == f"backed up {db} to {backup}: {size:,} bytes, events up to position 2, schema version 1\n"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


def test_it_never_overwrites_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    EventStore.open(db).close()
    backup = tmp_path / "monday.db"
    backup.write_text("Monday's backup")

    code, out, err = cli(capsys, "store", "backup", str(backup), "--db", str(db))

    assert (code, out) == (2, "")
    assert err == f"store backup: {backup} exists: a backup never overwrites a file; name a new one\n"
    assert backup.read_text() == "Monday's backup"


def test_a_store_that_is_not_there_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "store", "backup", str(tmp_path / "backup.db"), "--db", str(tmp_path / "events.db"))

    assert (code, out) == (2, "")
    assert f"event store {tmp_path / 'events.db'}: does not exist" in err
    assert list(tmp_path.iterdir()) == []
