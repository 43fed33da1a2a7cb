"""Acknowledged appends survive the writing process being killed at any moment."""

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

from store import EventStore

WRITER = Path(__file__).with_name("crash_writer.py")
ROUNDS = 24
WRITER_THREADS = 4


def run_writer_and_kill_it(db_path: Path, synchronous: str, kill_after: int) -> dict[str, int]:
    """Start a writer, SIGKILL it after `kill_after` acknowledgements; what it acknowledged."""
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(db_path), str(WRITER_THREADS), synchronous],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged: dict[str, int] = {}

    def note(line: str) -> None:
        stream, version = line.split()
        acknowledged[stream] = max(acknowledged.get(stream, 0), int(version))

    try:
        for _ in range(kill_after):
            line = child.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise AssertionError(f"writer died on its own: {child.stderr.read()}")  # type: ignore[union-attr]
            note(line)
    finally:
        child.kill()
        child.wait()
    # Lines printed between the last one read and the kill were acknowledged too.
    for line in child.stdout:  # type: ignore[union-attr]
        if line.endswith("\n"):
            note(line)
    child.stdout.close()  # type: ignore[union-attr]
    child.stderr.close()  # type: ignore[union-attr]
    return acknowledged


def assert_every_acknowledged_event_is_there(db_path: Path, acknowledged: dict[str, int]) -> None:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = conn.execute("SELECT stream, seq, data FROM events ORDER BY position").fetchall()
    finally:
        conn.close()
    seen: dict[str, int] = {}
    for stream, seq, data in rows:
        assert seq == seen.get(stream, 0) + 1, f"{stream} jumps to seq {seq}"
        assert data == f"{stream}:{seq}".encode()
        seen[stream] = seq
    for stream, version in acknowledged.items():
        assert seen.get(stream, 0) >= version, f"{stream}: acknowledged {version}, found {seen.get(stream, 0)}"


def test_acknowledged_appends_survive_sigkill_at_random_moments(tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    db_path = tmp_path / "events.db"
    acknowledged: dict[str, int] = {}
    for round_ in range(ROUNDS):
        synchronous = "FULL" if round_ % 2 == 0 else "NORMAL"
        kill_after = rng.randint(1, 300)
        for stream, version in run_writer_and_kill_it(db_path, synchronous, kill_after).items():
            acknowledged[stream] = max(acknowledged.get(stream, 0), version)
        try:
            assert_every_acknowledged_event_is_there(db_path, acknowledged)
        except AssertionError as failure:
            raise AssertionError(f"round {round_}, seed {seed}: {failure}") from failure

    with EventStore.open(db_path) as reopened:
        for stream, version in acknowledged.items():
            assert reopened.stream_version(stream) >= version
    assert sum(acknowledged.values()) > ROUNDS
