"""`run.py status` against an in-process service running on a real store, the same service stopped,
and the status files a killed or stuck service leaves."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from commands.runtime import Running, running_service
from connect_local import Config, LocalConnect
from service import local_regions
from service.demo_worker import DEMO_SECRET, ensure_demo_worker
from service.status_file import read_status, status_path, write_status
from store import EventStore
from store.service_lock import ServiceLock
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.harness import Api, events_of, of_type, wait_for
from tests.support.cli import cli


@dataclass
class Served:
    db: Path
    store: EventStore
    running: Running
    api: Api
    worker_id: str


@pytest.fixture
def serve(tmp_path: Path, start_server: Callable[[Config], LocalConnect]) -> Callable[[], contextmanager]:
    """The service on the local Amazon Connect, its status written every 50 ms; one conversation connected."""
    connect = start_server(config_with())

    @contextmanager
    def served() -> Iterator[Served]:
        db = tmp_path / "data" / "events.db"
        db.parent.mkdir(mode=0o700, exist_ok=True)
        with EventStore.open(db) as store:
            worker_id = ensure_demo_worker(WorkerRegistry(store), connect.ready_info())
            with running_service(store, local_regions(connect.endpoint_url), status_interval=0.05) as running:
                api = Api(running.api_url, running.clients.create("bot").token)
                assert api.transfer("c-1", worker_id)[0] == 201
                wait_for(lambda: of_type(events_of(store, "c-1"), "AgentJoined"), "Ana to join")
                wait_for(lambda: _live_in_status(db) == 1, "the status to count the conversation")
                yield Served(db, store, running, api, worker_id)

    return served


def _live_in_status(db: Path) -> int:
    status = read_status(status_path(db))
    return -1 if status is None else sum(live.conversations for live in status.live)


def test_a_running_service_is_said_running_with_its_regions_and_live_conversations(
    serve: Callable[[], contextmanager], capsys: pytest.CaptureFixture[str]
) -> None:
    with serve() as served:
        code, out, _ = cli(capsys, "status", "--db", str(served.db))

    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith(f"service running (pid {os.getpid()}, updated ")
    assert f"bots' HTTP API {served.running.api_url}" in out
    [region] = [line for line in lines if line.strip().startswith("us-east-1")]
    assert region.split()[1] == "1" and " ok " in region and region.endswith(DEMO_SECRET)
    assert "live conversations (counted by the service): 1" in out
    [worker] = [line for line in lines if served.worker_id in line]
    assert worker.split() == ["demo", served.worker_id, "us-east-1", "1"]


def test_json_says_the_same(serve: Callable[[], contextmanager], capsys: pytest.CaptureFixture[str]) -> None:
    with serve() as served:
        code, out, _ = cli(capsys, "status", "--db", str(served.db), "--json")

    report = json.loads(out)
    assert (code, report["state"], report["live_from"]) == (0, "running", "service")
    assert report["live"] == [
        {"worker_id": served.worker_id, "worker_name": "demo", "region": "us-east-1", "conversations": 1}
    ]
    [region] = report["status"]["regions"]
    assert (region["region"], region["secret"], region["live_conversations"]) == ("us-east-1", DEMO_SECRET, 1)
    assert region["health"]["calls"] >= 2 and region["health"]["failing_since"] is None
    assert report["status"]["pid"] == os.getpid() and report["status"]["last_position"] > 0


def test_a_stopped_service_is_said_stopped_and_the_store_counts_its_live_conversations(
    serve: Callable[[], contextmanager], capsys: pytest.CaptureFixture[str]
) -> None:
    with serve() as served:
        pass

    code, out, _ = cli(capsys, "status", "--db", str(served.db))

    assert code == 3, out
    assert out.startswith("service not running; last seen ") and f"(pid {os.getpid()}, stopped)" in out
    assert "regions (as last seen" in out and "us-east-1" in out
    assert "live conversations (counted from the event store): 1" in out
    assert "bots' HTTP API" not in out


def test_a_service_gone_without_stopping_is_said_not_running(
    serve: Callable[[], contextmanager], capsys: pytest.CaptureFixture[str]
) -> None:
    with serve() as served:
        pass
    last = read_status(status_path(served.db))
    assert last is not None
    write_status(status_path(served.db), msgspec.structs.replace(last, stopped_at=None))  # as a SIGKILL leaves it

    code, out, _ = cli(capsys, "status", "--db", str(served.db))

    assert code == 3, out
    assert "gone without stopping (killed or crashed)" in out.splitlines()[0]


def test_a_service_holding_the_store_without_a_fresh_status_is_said_stale(
    serve: Callable[[], contextmanager], capsys: pytest.CaptureFixture[str]
) -> None:
    with serve() as served:
        pass
    last = read_status(status_path(served.db))
    assert last is not None
    write_status(status_path(served.db), msgspec.structs.replace(last, written_at=time.time() - 60, stopped_at=None))
    lock = ServiceLock(served.db).acquire()
    try:
        code, out, _ = cli(capsys, "status", "--db", str(served.db))
    finally:
        lock.release()

    assert code == 1, out
    assert out.startswith(f"service running (pid {last.pid}) but its status is 60 s old")
    assert "live conversations (counted from the event store): 1" in out


def test_a_store_no_service_ever_ran_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    EventStore.open(db).close()

    code, out, _ = cli(capsys, "status", "--db", str(db))

    assert code == 3
    assert out.startswith("service not running (it has never written a status here)")
    assert "live conversations (counted from the event store): 0" in out


def test_no_store_and_a_file_that_is_no_status_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "status", "--db", str(tmp_path / "nowhere.db"))[:2] == (2, f"status: no event store at {tmp_path / 'nowhere.db'}\n")

    db = tmp_path / "events.db"
    EventStore.open(db).close()
    status_path(db).write_text('{"pid": "not a number"}')
    code, out, _ = cli(capsys, "status", "--db", str(db))
    assert code == 2 and out.startswith(f"status: {status_path(db)} is not a status file")


def test_the_status_file_is_owner_only_and_replaced_whole(serve: Callable[[], contextmanager]) -> None:
    with serve() as served:
        wait_for(lambda: (read_status(status_path(served.db)) or None) and True, "a status")
        folder = served.db.parent

    assert stat.S_IMODE(status_path(served.db).stat().st_mode) == 0o600
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]
