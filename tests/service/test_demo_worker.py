"""The embedded default's demo worker across restarts: found again, brought up to date, and left in the
region the operator switched it to."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from service.demo_worker import DEMO_FAILOVER_NAME, ensure_demo_worker
from store import EventStore
from store.workers import STREAM_PREFIX, WorkerRegistry

CONNECT_INFO: dict[str, Any] = {
    "region": "us-east-1",
    "regions": ["us-east-1", "us-west-2"],
    "instance_id": "11111111-2222-4333-8444-555555555555",
    "contact_flow_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
    "queue_id": "99999999-8888-4777-8666-555555555555",
}


def test_a_restart_keeps_the_failover_region_the_operator_chose(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        registry = WorkerRegistry(store)
        worker_id = ensure_demo_worker(registry, CONNECT_INFO)
        registry.failover(worker_id, to=DEMO_FAILOVER_NAME, mode="move", at=time.time())
        events_before = len(store.read_stream(STREAM_PREFIX + worker_id))

        assert ensure_demo_worker(registry, CONNECT_INFO) == worker_id

        failover = registry.get(worker_id).data.failover_region_config
        assert failover is not None and failover.active_failover_region == DEMO_FAILOVER_NAME
        assert len(store.read_stream(STREAM_PREFIX + worker_id)) == events_before  # no order written


def test_a_changed_local_connect_updates_the_worker_in_its_chosen_region(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        registry = WorkerRegistry(store)
        worker_id = ensure_demo_worker(registry, CONNECT_INFO)
        registry.failover(worker_id, to=DEMO_FAILOVER_NAME, mode="drain", at=time.time())

        changed = {**CONNECT_INFO, "contact_flow_id": "ffffffff-bbbb-4ccc-8ddd-eeeeeeeeeeee"}
        assert ensure_demo_worker(registry, changed) == worker_id

        data = registry.get(worker_id).data
        assert data.contact_flow_id == changed["contact_flow_id"]
        assert data.failover_region_config is not None
        assert data.failover_region_config.active_failover_region == DEMO_FAILOVER_NAME


def test_a_local_connect_without_a_second_region_leaves_the_worker_on_its_primary(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        registry = WorkerRegistry(store)
        worker_id = ensure_demo_worker(registry, CONNECT_INFO)
        registry.failover(worker_id, to=DEMO_FAILOVER_NAME, mode="drain", at=time.time())

        assert ensure_demo_worker(registry, {**CONNECT_INFO, "regions": ["us-east-1"]}) == worker_id

        assert registry.get(worker_id).data.failover_region_config is None
