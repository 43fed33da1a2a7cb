"""The data folder and the store's files are readable by their owner only, whatever the umask."""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import EventStore, NewEvent
from store.data_folder import DataFolderNotPrivate, prepare_data_folder
from tests.support.processes import start_run_py, wait_for_ready_file


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """Umask 022, as on most systems: left to it, new files would be 0644 and folders 0755."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_folder_is_created_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "var" / "data"
    prepare_data_folder(data)
    assert mode_of(data) == 0o700


def test_the_store_and_its_wal_and_shm_files_are_owner_only(tmp_path: Path) -> None:
    prepare_data_folder(tmp_path / "data")
    path = tmp_path / "data" / "events.db"
    with EventStore.open(path) as store:
        store.append("conversation-1", [NewEvent("Transferred", b"{}")], 0)
        files = {p.name: mode_of(p) for p in path.parent.iterdir()}
    assert files == {"events.db": 0o600, "events.db-wal": 0o600, "events.db-shm": 0o600}


def test_a_folder_whose_store_others_can_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    EventStore.open(tmp_path / "events.db").close()
    os.chmod(tmp_path / "events.db", 0o644)

    with pytest.raises(DataFolderNotPrivate) as refused:
        prepare_data_folder(tmp_path)

    assert refused.value.paths == [tmp_path / "events.db"]
    assert f"chmod 600 {tmp_path / 'events.db'}" in str(refused.value)


@pytest.mark.parametrize("name", ["api-token", "webhook-secret", "demo-client-token", "events.db-wal"])
def test_a_secret_the_group_can_read_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("secret\n")
    os.chmod(tmp_path / name, 0o640)

    with pytest.raises(DataFolderNotPrivate, match=f"chmod 600 {tmp_path / name}"):
        prepare_data_folder(tmp_path)


def test_a_folder_of_owner_only_files_is_accepted_and_left_as_it_was(tmp_path: Path) -> None:
    EventStore.open(tmp_path / "events.db").close()
    (tmp_path / "api-token").write_text("token\n")
    os.chmod(tmp_path / "api-token", 0o600)
    (tmp_path / "worker.json").write_text("{}")  # not a secret: 0644 is fine
    before = {p.name: mode_of(p) for p in tmp_path.iterdir()}

    prepare_data_folder(tmp_path)

    assert {p.name: mode_of(p) for p in tmp_path.iterdir()} == before


def test_run_py_keeps_its_new_data_folder_owner_only(tmp_path: Path) -> None:
    """The embedded default under umask 022: the folder 0700, the store, its WAL and the secrets 0600."""
    data = tmp_path / "data"
    ready = tmp_path / "ready.json"
    process = start_run_py("--data", str(data), "--ready-file", str(ready))
    try:
        wait_for_ready_file(ready, process)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    modes = {p.name: mode_of(p) for p in data.iterdir()}
    assert mode_of(data) == 0o700
    assert "events.db" in modes and len(modes) > 1
    assert modes == dict.fromkeys(modes, 0o600)


def test_run_py_refuses_a_data_folder_whose_store_others_can_read(tmp_path: Path) -> None:
    EventStore.open(tmp_path / "events.db").close()
    os.chmod(tmp_path / "events.db", 0o644)

    process = start_run_py("--data", str(tmp_path))
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 2
    assert f"chmod 600 {tmp_path / 'events.db'}" in output
