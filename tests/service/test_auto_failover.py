"""Automatic failover end to end: the service on a local Amazon Connect serving two regions, a worker
whose primary is us-east-1 with the failover region "london" in eu-west-2, an outage of us-east-1
injected there, and the test's clock moved past the configured time: the order is written to the
worker's stream as the operator's command writes it, and new transfers start in eu-west-2. Then the
loop's pass alone, on a real store, given the regions' figures."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest
from structlog.contextvars import get_contextvars

from connect_client import HealthSnapshot
from connect_local.config import DEFAULT_CONTACT_FLOW_ID, DEFAULT_INSTANCE_ID
from events import decode_worker
from events.worker import FailoverActivated
from events.worker_config import parse_worker_config
from service.auto_failover import MIN_FAILURES, AutoFailover, AutoFailoverLoop, HealthKey
from store import EventStore
from store.workers import STREAM_PREFIX, WorkerRegistry
from tests.connect_client.conftest import ONE_ATTEMPT
from tests.connect_local.test_hours_and_regions import two_regions
from tests.service.conftest import Running, regions_on
from tests.service.harness import events_of, of_type, wait_for

AFTER = 120.0
EAST = ("us-east-1", "srn:vault::acme:aws-cross-account-role:east")
LONDON = ("eu-west-2", "srn:vault::acme:aws-cross-account-role:london")


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def worker(name: str) -> bytes:
    region = {"InstanceId": DEFAULT_INSTANCE_ID, "ContactFlowId": DEFAULT_CONTACT_FLOW_ID}
    return json.dumps({
        "Data": {
            **region,
            "Region": "us-east-1",
            "Secret": EAST[1],
            "FailoverRegionConfig": {"FailoverRegions": [
                {"Name": "london", "Region": LONDON[0], "Secret": LONDON[1], **region},
            ]},
        },
        "Name": name,
        "Type": "amazon-connect-worker",
    }).encode()


def failing_since(since: float, last: float) -> HealthSnapshot:
    """A region failing since `since`, its last failure at `last`."""
    return HealthSnapshot(
        calls=10, errors=MIN_FAILURES, throttles=0, window_calls=10, error_rate=0.3, throttle_rate=0.0,
        latency_p50_ms=30.0, latency_p99_ms=80.0, consecutive_failures=MIN_FAILURES, last_success_at=since - 1,
        last_failure_at=last, failing_since=since,
    )


def region_of_chat(running: Running, conversation_id: str) -> str:
    [started] = wait_for(lambda: of_type(events_of(running.store, conversation_id), "ChatStarted"), "the chat")
    return running.connect.contact_record(started.contact_id)["Region"]


FAILOVER_LOGGERS = ("service.auto_failover", "service.failover_orders")


class WorkerBound(logging.Handler):
    """The `worker_id` bound (structlog's contextvars, which every line of the service's own log shows)
    when each line was logged, by logger."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, str | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, get_contextvars().get("worker_id")))


@pytest.fixture
def bound() -> Iterator[WorkerBound]:
    handler = WorkerBound()
    loggers = [logging.getLogger(name) for name in FAILOVER_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_primary_down_past_the_configured_time_is_left_for_the_failover_region_by_the_operators_path(
    start_service: Callable[..., Running], caplog: pytest.LogCaptureFixture, bound: WorkerBound
) -> None:
    clock = Clock()
    running = start_service(
        two_regions(), clock=clock, regions=regions_on(clock, ONE_ATTEMPT),
        auto_failover=AutoFailover(after_seconds=AFTER, mode="move"),
    )
    workers = WorkerRegistry(running.store)
    worker_id = workers.create(parse_worker_config(worker("east-first")), at=clock())
    assert running.api.transfer("before", worker_id)[0] == 201
    assert region_of_chat(running, "before") == "us-east-1"

    running.connect.set_outage("us-east-1")
    outage_at = clock.now
    for n in range(MIN_FAILURES):
        assert running.api.transfer(f"during-{n}", worker_id)[0] == 201  # each StartChatContact fails
    east = running.service.supervisor("us-east-1").clients.health
    wait_for(lambda: east.snapshot().consecutive_failures >= MIN_FAILURES, "the outage to be seen")
    assert workers.state(worker_id).failover_order == 0  # failing, not yet for long enough

    clock.now += AFTER
    wait_for(lambda: workers.state(worker_id).failover_order > 0, "the automatic order")

    orders = [decode_worker(stored.data) for stored in running.store.read_stream(STREAM_PREFIX + worker_id)]
    [order] = [event for event in orders if isinstance(event, FailoverActivated)]
    assert (order.name, order.mode, order.by, order.at) == ("london", "move", "auto", outage_at + AFTER)
    # The loop logs its order just after the store has it: wait for the line, not only for the order.
    wait_for(lambda: [r for r in caplog.records if r.name == "service.auto_failover"], "the order's log line")
    [line] = [r.getMessage() for r in caplog.records if r.name == "service.auto_failover"]
    assert line.startswith(f"worker {worker_id} (east-first): automatic failover from us-east-1 to eu-west-2 ")
    assert "calls in a row failed in us-east-1 since" in line
    [record] = [r for r in caplog.records if r.name == "service.auto_failover"]
    assert record.levelno == logging.WARNING
    carried = "carried out: conversations moved"
    wait_for(lambda: [r for r in caplog.records if carried in r.getMessage()], "the order carried out")
    assert {worker for name, worker in bound.lines if name in FAILOVER_LOGGERS} == {worker_id}, bound.lines

    assert running.api.transfer("after", worker_id)[0] == 201
    assert region_of_chat(running, "after") == "eu-west-2"


def test_one_pass_at_a_time_orders_once_then_waits_then_fails_back(tmp_path: Path) -> None:
    """The loop's pass (`check`) on a real store, given the regions' figures as plain values."""
    clock = Clock()
    health: dict[HealthKey, HealthSnapshot] = {}
    with EventStore.open(tmp_path / "events.db") as store:
        workers = WorkerRegistry(store)
        worker_id = workers.create(parse_worker_config(worker("east-first")), at=clock())
        loop = AutoFailoverLoop(store, AutoFailover(after_seconds=AFTER, mode="drain"), health=lambda: health, clock=clock)
        assert loop.check() == []  # no region in use yet

        health[EAST] = failing_since(clock.now - AFTER, last=clock.now)
        assert [(order.to, order.mode) for order in loop.check()] == [("london", "drain")]
        assert loop.check() == []  # already on london: nothing failing there

        health[LONDON] = failing_since(clock.now - AFTER, last=clock.now)
        health[EAST] = msgspec.structs.replace(health[EAST], consecutive_failures=0, failing_since=None)
        clock.now += AFTER - 1
        assert loop.check() == []  # london is down, but the worker was ordered less than AFTER ago
        clock.now += 1
        health[LONDON] = msgspec.structs.replace(health[LONDON], last_failure_at=clock.now)  # its chats still fail
        assert [(order.to, order.to_region) for order in loop.check()] == [(None, "us-east-1")]

        stream = [decode_worker(stored.data) for stored in store.read_stream(STREAM_PREFIX + worker_id)]
        assert [(type(event).__name__, event.by) for event in stream[1:]] == [
            ("FailoverActivated", "auto"), ("FailoverDeactivated", "auto")
        ]
        assert workers.state(worker_id).config.data.failover_region_config.active_failover_region is None
