"""A `serve` stopped with SIGTERM while it is leaving the chat a failover move left behind exits without
waiting for the leave (its region may hang for the participant calls' whole timeout, tried again), and
the leave is not lost: its intent is in the log, so the next start leaves the chat, once."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

from actors.conversation import LEFT_BEHIND_NOTICE
from connect_local import Config, LocalConnect
from connect_local.config import RegionConfig, default_instance
from store import EventStore
from store.clients import ClientRegistry
from store.workers import WorkerRegistry
from tests.connect_local.configs import INSTANT_ANA
from tests.service.harness import Api, events_of, of_type, wait_for
from tests.service.test_failover_after_restart import DUBLIN, PRIMARY, failover_worker
from tests.support.processes import stop_gracefully

HELD_FOR_EVER = 3600.0  # seconds of added latency: the region hangs until the test takes it away


def test_sigterm_while_a_leave_hangs_exits_at_once_and_the_next_start_leaves_the_chat(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect], serve: Callable
) -> None:
    instance = default_instance([INSTANT_ANA])
    connect = start_server(Config(regions=[RegionConfig(name=PRIMARY, instances=[instance]),
                                           RegionConfig(name=DUBLIN, instances=[instance])]))
    data = tmp_path / "data"
    data.mkdir()
    with EventStore.open(data / "events.db") as store, ClientRegistry(store.path) as clients:
        worker_id = WorkerRegistry(store).create(failover_worker(connect), at=time.time())
        token = clients.create("bot").token
    config = tmp_path / "serve.json"
    local = {"endpoint_url": connect.endpoint_url, "static_credentials": True}
    config.write_text(json.dumps({"data_dir": str(data), "api_port": 0, "regions": {PRIMARY: local, DUBLIN: local}}))

    first, info = serve(config)
    with EventStore.open(data / "events.db") as store:
        assert Api(info["api_url"], token).transfer("leaving-1", worker_id, User={"Name": "leaving-1"})[0] == 201
        wait_for(lambda: of_type(events_of(store, "leaving-1"), "AgentJoined")
                 and of_type(events_of(store, "leaving-1"), "ConnectionOpened"), "Ana to join, the socket open")
        [started] = of_type(events_of(store, "leaving-1"), "ChatStarted")

        connect.set_latency(HELD_FOR_EVER, region=PRIMARY)  # every call to the chat left behind hangs
        WorkerRegistry(store).failover(worker_id, to="dublin", mode="move", at=time.time())
        wait_for(lambda: of_type(events_of(store, "leaving-1"), "ChatLeaveRequested") and connect.faults.held() == 1,
                 "the leave of the chat in the primary region to hang there", timeout=60)

        first.send_signal(signal.SIGTERM)
        # Held for ever, a leave the exit waited for would be tried again once its read timed out: the
        # process must be gone before that, while the local Connect still holds its one call.
        wait_for(lambda: first.poll() is not None or connect.faults.held() > 1, "the process to exit", timeout=120)
        assert first.poll() == 0, "the process waited for its leave: the call timed out and was tried again"
        assert not of_type(events_of(store, "leaving-1"), "ChatLeft")

        connect.set_latency(0, region=PRIMARY)
        second, _ = serve(config)
        [left] = wait_for(lambda: of_type(events_of(store, "leaving-1"), "ChatLeft"), "the leave redone at the start")
        assert left.error is None
        stop_gracefully(second)

    record = connect.contact_record(started.contact_id)
    notices = [item for item in record["Items"] if item["Type"] == "MESSAGE" and item["Content"] == LEFT_BEHIND_NOTICE]
    assert len(notices) == 1  # sent by the call held at the exit and again at the start: one, by its client token
    assert any(item["Type"] == "EVENT" and item["ContentType"].endswith("participant.left")
               and item["ParticipantRole"] == "CUSTOMER" for item in record["Items"])
