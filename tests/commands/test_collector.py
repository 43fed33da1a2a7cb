"""The service's garbage collector (commands/collector.py): young collections less often, and what start-up
and recovery made frozen once recovery is done, not before (recovery is held here on its read of the one
live conversation's log, as tests/service/test_start_and_recovery_probes.py holds it), nor while the
recovered sockets' reconnection calls are still under way on their hub; and `connect-local` collecting
less too."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from commands.collector import YOUNG_THRESHOLD, collect_less, freeze_when_recovered
from commands.runtime import running_service
from connect_client.socket_hub import SocketHub
from connect_local import Config, LocalConnect
from service import local_regions
from service.demo_worker import ensure_demo_worker
from store.workers import WorkerRegistry
from store import EventStore
from tests.connect_local.configs import config_with
from tests.service.harness import Api, events_of, of_type, wait_for
from tests.service.test_start_and_recovery_probes import HeldStore
from tests.support.processes import REPO


@pytest.fixture
def collector_as_it_was() -> Iterator[None]:
    """The test process's collector as it found it: nothing it froze stays frozen."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_young_collections_come_every_young_threshold_allocations(collector_as_it_was: None) -> None:
    _, middle, old = gc.get_threshold()
    collect_less()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)


def test_what_exists_is_frozen_once_recovery_is_done_and_not_before(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect], collector_as_it_was: None
) -> None:
    connect = start_server(config_with())
    with EventStore.open(tmp_path / "events.db") as store:
        worker_id = ensure_demo_worker(WorkerRegistry(store), connect.ready_info())
        with running_service(store, local_regions(connect.endpoint_url)) as served:
            bot = served.clients.create("bot").token
            assert Api(served.api_url, bot).transfer("r-9", worker_id)[0] == 201  # HeldStore holds its read
            wait_for(lambda: of_type(events_of(store, "r-9"), "AgentJoined"), "Ana to join")

    gc.unfreeze()
    with HeldStore.open(tmp_path / "events.db") as store:
        with running_service(store, local_regions(connect.endpoint_url)) as served:
            freezing = freeze_when_recovered(served.service)
            try:
                assert store.reached.wait(15), "recovery never read r-9"
                assert freezing.is_alive() and gc.get_freeze_count() == 0
            finally:
                store.go_on.set()
            freezing.join(30)
            assert not freezing.is_alive() and served.service.recovered
            assert gc.get_freeze_count() > 0


def test_nothing_is_frozen_while_a_reconnection_call_is_under_way(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect], collector_as_it_was: None
) -> None:
    connect = start_server(config_with())
    hub = SocketHub(workers=1, name="test-hub").start()
    held = threading.Event()
    try:
        with EventStore.open(tmp_path / "events.db") as store:
            with running_service(store, local_regions(connect.endpoint_url)) as served:
                assert served.service.wait_recovered(15)
                hub.run_blocking(lambda: held.wait(30), lambda result, error: None)  # a socket's CreateParticipantConnection, say
                freezing = freeze_when_recovered(served.service, hub, quiet=0.0)

                freezing.join(1.0)
                assert freezing.is_alive() and gc.get_freeze_count() == 0
                held.set()
                freezing.join(30)
                assert not freezing.is_alive() and gc.get_freeze_count() > 0
    finally:
        held.set()
        hub.stop()


CONNECT_LOCAL_THEN_THRESHOLD = """
import gc, os, signal, sys, threading, time
import run

ready = sys.argv[1]

def report_once_listening() -> None:
    while not os.path.exists(ready):
        time.sleep(0.02)
    print(gc.get_threshold()[0], flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=report_once_listening, daemon=True).start()
sys.exit(run.main(["connect-local", "--ready-file", ready]))
"""


def test_connect_local_collects_less_as_serve_does(tmp_path: Path) -> None:
    # It holds every chat it serves: with CPython's thresholds its full collections paused them all.
    ready = tmp_path / "ready.json"
    child = subprocess.run(
        [sys.executable, "-c", CONNECT_LOCAL_THEN_THRESHOLD, str(ready)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert child.returncode == 0, child.stderr
    assert str(YOUNG_THRESHOLD) in child.stdout.splitlines()
