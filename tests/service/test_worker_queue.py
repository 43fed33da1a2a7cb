"""GET /v1/workers/{id}/queue end to end: the service against the local Amazon Connect, both on one clock
the tests move. The figures come from Connect's GetCurrentMetricData on the worker's queue in its active
region; each queue's answer (or failure) is kept 5 seconds and shared by bots asking at once.

Whether Connect was asked is read at Connect: a refusal armed there (`refuse_next`) answers the next
GetCurrentMetricData that arrives, so an answer that is not the refusal did not reach Connect.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace

from connect_local import Config, LocalConnect
from connect_local.config import (
    ALWAYS_OPEN,
    DEFAULT_QUEUE_ID,
    ContactFlowConfig,
    InstanceConfig,
    QueueConfig,
    RegionConfig,
    default_instance,
)
from events.worker_config import FailoverRegion, FailoverRegionConfig
from service.demo_worker import DEMO_SECRET, demo_worker_config, ensure_demo_worker
from store import EventStore
from store.clients import ClientRegistry
from store.workers import WorkerRegistry
from tests.connect_local.configs import INSTANT_ANA, config_with
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for
from tests.support.processes import start_run_py, stop_gracefully, wait_for_ready_file

REFUSAL = "refused on purpose: GetCurrentMetricData reached Connect"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def start_server(clock: Clock) -> Iterator[Callable[[Config], LocalConnect]]:
    """tests/conftest.py's, on the tests' clock: a waiting contact ages when the test moves the clock."""
    started: list[LocalConnect] = []

    def start(config: Config) -> LocalConnect:
        server = LocalConnect(config, clock=clock).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def ask(api_url: str, token: str, worker_id: str) -> tuple[int, dict[str, Any], str | None]:
    """The status, body and Retry-After of GET /v1/workers/WORKER/queue."""
    request = urllib.request.Request(f"{api_url}/v1/workers/{worker_id}/queue")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read()), answer.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers.get("Retry-After")


def queue_of(running: Running, worker_id: str | None = None) -> tuple[int, dict[str, Any], str | None]:
    return ask(running.api.url, running.api.token, worker_id or running.worker_id)


def as_of(body: dict[str, Any]) -> float:
    return datetime.fromisoformat(body["AsOf"]).timestamp()


def refuse_the_next_call(running: Running) -> None:
    running.connect.refuse_next(1, "GetCurrentMetricData", "InvalidParameterException", REFUSAL)


def test_by_default_one_agent_is_online_and_no_contact_waits(
    start_service: Callable[..., Running], clock: Clock
) -> None:
    running = start_service(clock=clock)
    status, body, _ = queue_of(running)
    assert status == 200, body
    assert as_of(body) == pytest.approx(clock.now, abs=1e-3)
    assert {key: value for key, value in body.items() if key != "AsOf"} == {
        "WorkerId": running.worker_id,
        "Region": "us-east-1",
        "QueueId": DEFAULT_QUEUE_ID,
        "AgentsOnline": 1,
        "AgentsAvailable": 1,
        "ContactsInQueue": 0,
        "OldestContactAgeSeconds": None,
        "AgeSeconds": 0.0,
    }


def test_a_busy_agent_is_online_not_available_and_the_chats_waiting_are_counted_with_the_oldest_ones_age(
    start_service: Callable[..., Running], clock: Clock
) -> None:
    running = start_service(config_with(agents=[replace(INSTANT_ANA, max_concurrent_chats=1)]), clock=clock)
    assert running.api.transfer("taken", running.worker_id)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, "taken"), "AgentJoined"), "Ana to take the first chat")
    for conversation, later in (("w-1", 30), ("w-2", 12)):
        assert running.api.transfer(conversation, running.worker_id)[0] == 201
        wait_for(lambda: of_type(events_of(running.store, conversation), "ChatStarted"), f"{conversation}'s chat")
        clock.now += later
    status, body, _ = queue_of(running)
    assert status == 200, body
    assert (body["AgentsOnline"], body["AgentsAvailable"]) == (1, 0)
    assert (body["ContactsInQueue"], body["OldestContactAgeSeconds"]) == (2, 42)


def test_an_answer_serves_for_five_seconds_saying_its_age_without_asking_connect_again(
    start_service: Callable[..., Running], clock: Clock
) -> None:
    running = start_service(clock=clock)
    first = queue_of(running)[1]
    refuse_the_next_call(running)

    clock.now += 4.5
    status, again, _ = queue_of(running)
    assert status == 200, again
    assert again["AsOf"] == first["AsOf"] and again["AgeSeconds"] == 4.5

    clock.now += 0.5  # the window's end: Connect is asked, and meets the refusal armed before
    status, body, _ = queue_of(running)
    assert (status, body["Code"]) == (502, "connect_refused") and REFUSAL in body["Message"]


def test_bots_asking_at_once_share_one_call_to_connect(start_service: Callable[..., Running], clock: Clock) -> None:
    running = start_service(clock=clock)
    bots = 8
    running.connect.set_latency(1.0)  # the one call is still in flight when every bot has asked
    refuse_the_next_call(running)  # a second call would get figures, and its bot a 200
    together = threading.Barrier(bots)

    def bot() -> tuple[int, str]:
        together.wait(10)
        status, body, _ = queue_of(running)
        return status, body.get("Message", "")

    with ThreadPoolExecutor(bots) as pool:
        answers = list(pool.map(lambda _: bot(), range(bots)))
    assert all(status == 502 and REFUSAL in message for status, message in answers), answers


def test_connect_throttling_is_a_503_with_retry_after_and_the_service_goes_on(
    start_service: Callable[..., Running], clock: Clock
) -> None:
    running = start_service(clock=clock)
    running.connect.throttle_next(3, operation="GetCurrentMetricData")  # all of boto3's own attempts
    status, body, retry_after = queue_of(running)
    assert (status, body["Code"], retry_after) == (503, "connect_throttled", "5"), body
    assert "ThrottlingException" in body["Message"]

    clock.now += 2  # the failure is kept too: Connect (no longer throttling) is not asked before Retry-After
    status, body, retry_after = queue_of(running)
    assert (status, body["Code"], retry_after) == (503, "connect_throttled", "3")

    assert running.api.transfer("after-throttle", running.worker_id)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, "after-throttle"), "AgentJoined"), "Ana to join")
    clock.now += 3
    status, body, _ = queue_of(running)
    assert (status, body["AgeSeconds"]) == (200, 0.0)


def test_a_queue_connect_does_not_know_is_a_502_with_connects_error(
    start_service: Callable[..., Running], clock: Clock
) -> None:
    running = start_service(clock=clock)
    config = demo_worker_config(running.connect.ready_info())
    worker = WorkerRegistry(running.store).create(
        replace(config, data=replace(config.data, queue_id="no-such-queue")), at=clock.now
    )
    status, body, retry_after = queue_of(running, worker)
    assert (status, body["Code"], retry_after) == (502, "connect_refused", None)
    assert "ResourceNotFoundException" in body["Message"]


def test_a_worker_on_a_failover_region_reads_that_regions_queue(
    start_service: Callable[..., Running], clock: Clock
) -> None:
    london = InstanceConfig(  # its own instance, flow and queue, where no simulated agent works
        id="london-instance",
        contact_flows=[ContactFlowConfig(id="london-flow", queue_id="london-queue")],
        queues=[QueueConfig(id="london-queue", agents=[])],
        hours_of_operation=[ALWAYS_OPEN],
    )
    regions = [
        RegionConfig(name="us-east-1", instances=[default_instance([INSTANT_ANA])]),
        RegionConfig(name="eu-west-2", instances=[london]),
    ]
    running = start_service(Config(regions=regions), clock=clock)
    assert queue_of(running)[1]["AgentsOnline"] == 1
    config = demo_worker_config(running.connect.ready_info())
    failover = FailoverRegionConfig(
        failover_regions=[
            FailoverRegion(
                name="london",
                secret=DEMO_SECRET,
                region="eu-west-2",
                instance_id="london-instance",
                contact_flow_id="london-flow",
                queue_id="london-queue",
            )
        ],
        active_failover_region="london",
    )
    on_failover = replace(config, data=replace(config.data, failover_region_config=failover))
    WorkerRegistry(running.store).update(running.worker_id, on_failover, at=clock.now)

    status, body, _ = queue_of(running)  # at once: the primary's answer, still fresh, is another queue's
    assert status == 200, body
    assert (body["Region"], body["QueueId"], body["AgentsOnline"]) == ("eu-west-2", "london-queue", 0)


def test_serve_takes_the_window_from_its_configuration(tmp_path: Path, server: LocalConnect) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    with EventStore.open(data / "events.db") as store, ClientRegistry(store.path) as clients:
        token = clients.create("bot").token
        worker = ensure_demo_worker(WorkerRegistry(store), server.ready_info())
    config = tmp_path / "serve.json"
    regions = {"us-east-1": {"endpoint_url": server.endpoint_url, "static_credentials": True}}
    serve = {"data_dir": str(data), "api_port": 0, "queue_metrics_cache_seconds": 0.2, "regions": regions}
    config.write_text(json.dumps(serve))
    ready = tmp_path / "ready.json"
    process = start_run_py("serve", "--config", str(config), "--ready-file", str(ready))
    try:
        api_url = wait_for_ready_file(ready, process)["api_url"]
        assert ask(api_url, token, worker)[0] == 200
        server.refuse_next(1, "GetCurrentMetricData", "InvalidParameterException", REFUSAL)
        # Well within the default 5 seconds, Connect is asked again.
        wait_for(lambda: ask(api_url, token, worker)[0] == 502, "a call to Connect after 0.2 s", timeout=3)
    finally:
        stop_gracefully(process)
