"""The embedded default's demo worker: pointed at the local Amazon Connect, created once and reused."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from events.worker_config import WorkerConfig, WorkerData
from store.workers import WorkerRegistry

DEMO_WORKER_NAME = "demo"
# The local Amazon Connect needs no credentials: this reference is never resolved.
DEMO_SECRET = "srn:vault::local:aws-cross-account-role:demo"


def demo_worker_config(connect_info: dict[str, Any]) -> WorkerConfig:
    return WorkerConfig(
        data=WorkerData(
            contact_flow_id=connect_info["contact_flow_id"],
            instance_id=connect_info["instance_id"],
            region=connect_info["region"],
            secret=DEMO_SECRET,
            queue_id=connect_info["queue_id"],
        ),
        name=DEMO_WORKER_NAME,
        type="amazon-connect-worker",
        description="The embedded default's worker, served by the local Amazon Connect",
    )


def ensure_demo_worker(registry: WorkerRegistry, connect_info: dict[str, Any]) -> str:
    """The demo worker's id: the one already stored (updated if the local Connect changed), else a new one."""
    config = demo_worker_config(connect_info)
    for worker_id, stored in registry.list().items():
        if stored.name == DEMO_WORKER_NAME:
            if msgspec.structs.asdict(stored.data) != msgspec.structs.asdict(config.data):
                registry.update(worker_id, config, at=time.time())
            return worker_id
    return registry.create(config, at=time.time())
