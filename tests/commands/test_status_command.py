"""`run.py status` against an in-process service running on a real store, the same service stopped,
and the status files a killed or stuck service leaves."""

from __future__ import annotations

import json
import os
import re
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
from events.worker_config import AutoDisconnectEvent
from service.demo_worker import DEMO_SECRET, demo_worker_config, ensure_demo_worker
from service.status_file import read_status, service_version, status_path, write_status
from store import EventStore
from store.service_lock import ServiceLock
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.crash.children import free_port
from tests.delivery.deliverers import told
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
                joined_by = time.time()
                # A status written since: one written before the chat started counts the conversation
                # (from its transfer) but none of its region's calls yet.
                wait_for(lambda: _live_in_status(db, written_after=joined_by) == 1, "the status to count the conversation")
                yield Served(db, store, running, api, worker_id)

    return served


def _live_in_status(db: Path, *, written_after: float = 0.0) -> int:
    status = read_status(status_path(db))
    if status is None or status.written_at <= written_after:
        return -1
    return sum(live.conversations for live in status.live)


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


def killed_after_serving(serve: Callable[[], contextmanager], **status: int) -> Served:
    """A service run and stopped, its status file then left as a SIGKILL leaves it (not stopped;
    `status` fields changed as given)."""
    with serve() as served:
        pass
    last = read_status(status_path(served.db))
    assert last is not None
    write_status(status_path(served.db), msgspec.structs.replace(last, stopped_at=None, **status))
    return served


def test_a_service_gone_without_stopping_is_said_not_running(
    serve: Callable[[], contextmanager], capsys: pytest.CaptureFixture[str]
) -> None:
    served = killed_after_serving(serve)

    code, out, _ = cli(capsys, "status", "--db", str(served.db))

    assert code == 3, out
    assert "gone without stopping (killed or crashed)" in out.splitlines()[0]



@pytest.mark.parametrize("command", [["status"], ["replay", "conv-1"], ["failover", "w-1", "--primary"], ["events", "tail"]])
def test_an_empty_file_is_no_store_and_is_left_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    empty = tmp_path / "events.db"
    empty.touch(mode=0o600)
    code, out, err = cli(capsys, *command, "--db", str(empty))
    assert code == 2
    assert f"--db: no event store at {empty} (an empty file)" in out + err
    assert empty.stat().st_size == 0 and sorted(path.name for path in tmp_path.iterdir()) == ["events.db"]

def test_a_killed_service_shows_the_stores_last_position_not_its_last_status_files(
    serve: Callable[[], contextmanager], capsys: pytest.CaptureFixture[str]
) -> None:
    # Killed up to 2 s after its last status write: what it appended since is in the store only.
    served = killed_after_serving(serve, last_position=1)
    with EventStore.open(served.db) as store:
        in_store = store.last_position()
    assert in_store > 1

    code, out, _ = cli(capsys, "status", "--db", str(served.db))
    assert code == 3, out
    assert f"event store {served.db} (last position {in_store})" in out
    code, out, _ = cli(capsys, "status", "--db", str(served.db), "--json")
    assert json.loads(out)["last_position"] == in_store


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
    assert cli(capsys, "status", "--db", str(tmp_path / "nowhere.db"))[:2] == (2, f"status: --db: no event store at {tmp_path / 'nowhere.db'}\n")

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


def test_the_store_its_pending_timers_and_each_clients_webhook_backlog_running_and_stopped(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect], capsys: pytest.CaptureFixture[str]
) -> None:
    connect = start_server(config_with())
    db = tmp_path / "data" / "events.db"
    db.parent.mkdir(mode=0o700)
    with EventStore.open(db) as store:
        config = demo_worker_config(connect.ready_info())
        rule = AutoDisconnectEvent(seconds_after_agent_message=600, type="DISCONNECT", user_message="Bye")
        worker_id = WorkerRegistry(store).create(
            msgspec.structs.replace(config, data=msgspec.structs.replace(config.data, auto_disconnect_events=[rule])),
            at=time.time(),
        )
        with running_service(store, local_regions(connect.endpoint_url), status_interval=0.05) as running:
            shop = running.clients.create("shop-bot")
            api = Api(running.api_url, shop.token)
            down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: every message waits for a retry
            assert api.transfer("c-1", worker_id, DeliverTo=down)[0] == 201
            wait_for(lambda: of_type(events_of(store, "c-1"), "AgentJoined"), "Ana to join")
            assert api.say("c-1", "m-1", "hello")[0] == 202
            wait_for(lambda: of_type(events_of(store, "c-1"), "TimerArmed"), "Ana's answer to arm the timer")
            owed = len(told(store, "c-1"))
            wait_for(lambda: _backlog_in_status(db) == (owed, 0), "the status to count the backlog")

            code, out, _ = cli(capsys, "status", "--db", str(db))
            _, as_json, _ = cli(capsys, "status", "--db", str(db), "--json")

        stopped_code, stopped, _ = cli(capsys, "status", "--db", str(db))

    assert code == 0, out
    assert re.search(r"^  store size \d+(\.\d)? (KiB|MiB) \(file .+, write-ahead log .+\)$", out, re.MULTILINE), out
    assert "pending timers (counted by the service): 1" in out
    assert "webhook delivery (counted by the service): lag 0 log positions" in out
    assert f"  backlog: {owed} messages in 1 conversations" in out
    [row] = [line for line in out.splitlines() if shop.client.id in line]
    assert row.split()[:4] == ["shop-bot", shop.client.id, "1", str(owed)]
    report = json.loads(as_json)
    assert report["version"] == report["status"]["version"] and report["store_size"]["file_bytes"] > 0
    assert [(b["client_id"], b["client_name"], b["messages"]) for b in report["webhook_backlog"]] == [
        (shop.client.id, "shop-bot", owed)
    ]

    assert stopped_code == 3, stopped
    assert "pending timers (counted from the event store): 1" in stopped
    assert "webhook delivery (counted from the event store): lag 0 log positions" in stopped
    [row] = [line for line in stopped.splitlines() if shop.client.id in line]
    assert row.split()[:4] == ["shop-bot", shop.client.id, "1", str(owed)]


def test_a_store_no_service_ever_ran_on_has_no_delivery_and_says_this_commands_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "events.db"
    EventStore.open(db).close()

    _, out, _ = cli(capsys, "status", "--db", str(db))

    assert f"  version {service_version()} (this command's)" in out
    assert "pending timers (counted from the event store): 0" in out
    assert "webhook delivery: no deliverer has run on this store yet" in out


def _backlog_in_status(db: Path) -> tuple[int, int | None] | None:
    status = read_status(status_path(db))
    if status is None or status.delivery_lag is None:
        return None
    return sum(waiting.messages for waiting in status.webhook_backlog), status.delivery_lag
