"""`run.py store backup` while the service hands conversations over and relays them: the copy is a
whole store, the bots' clients and the conversations so far in it, and the service never noticed."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from store import EventStore
from store.clients import ClientRegistry
from store.conversations import live_conversations, load_conversation
from tests.service.conftest import Running
from tests.service.harness import wait_for
from tests.support.cli import cli


def events_in(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT position, stream, seq, type, data FROM events ORDER BY position").fetchall()
    finally:
        conn.close()


def test_a_backup_while_conversations_are_handed_over_is_a_store_to_restore_from(
    running: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = threading.Event()
    answers: list[int] = []

    def bot() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            answers.append(running.api.transfer(f"b-{n}", running.worker_id)[0])
            answers.append(running.api.say(f"b-{n}", "m-1", "Hello")[0])

    talking = threading.Thread(target=bot)
    talking.start()
    try:
        wait_for(lambda: len(answers) >= 20, "the bot's first conversations")
        code, out, err = cli(capsys, "store", "backup", str(tmp_path / "backup.db"), "--db", str(running.store.path))
        handed_over = len(answers)
        wait_for(lambda: len(answers) >= handed_over + 20, "the bot going on after the backup")
    finally:
        stop.set()
        talking.join(timeout=30)

    assert code == 0, err
    assert set(answers) <= {201, 202}, "the service answered every call during the backup"
    backup = tmp_path / "backup.db"
    last_position = events_in(backup)[-1][0]
    assert out.strip() == (
        f"backed up {running.store.path} to {backup}: {backup.stat().st_size:,} bytes, events up to position "
        f"{last_position}, schema version 1"
    )
    assert running.api.token not in out + err
    assert events_in(backup) == events_in(running.store.path)[:last_position], "the log up to a position, whole"
    with ClientRegistry(backup) as clients:
        assert clients.authenticate(running.api.token) is not None, "the bots' clients are in the copy"
    with EventStore.open(backup) as restored:
        live = live_conversations(restored)
        assert live, "conversations were under way when the copy was taken"
        assert all(load_conversation(restored, conversation).bot_name == "Botty" for conversation in live)
