"""The embedded default's demo worker: pointed at the local Amazon Connect, created once and reused."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from events.worker_config import FailoverRegion, FailoverRegionConfig, WorkerConfig, WorkerData
from store.workers import WorkerRegistry

DEMO_WORKER_NAME = "demo"
# The local Amazon Connect needs no credentials: this reference is never resolved.
DEMO_SECRET = "srn:vault::local:aws-cross-account-role:demo"
# The embedded default's local Connect serves a second region, the demo worker's failover region:
# `run.py failover DEMO_WORKER --to standby --move` tries a failover with no AWS.
DEMO_FAILOVER_NAME = "standby"
DEMO_FAILOVER_REGION = "us-west-2"


def demo_worker_config(connect_info: dict[str, Any]) -> WorkerConfig:
    """The demo worker on the local Connect's first region, with its second region (the same instance,
    flow and queue), if it serves one, as the failover region DEMO_FAILOVER_NAME."""
    regions = connect_info.get("regions", [])
    failover = None
    if len(regions) > 1:
        standby = FailoverRegion(
            name=DEMO_FAILOVER_NAME, secret=DEMO_SECRET, region=regions[1], instance_id=connect_info["instance_id"],
            contact_flow_id=connect_info["contact_flow_id"], queue_id=connect_info["queue_id"],
        )
        failover = FailoverRegionConfig(failover_regions=[standby])
    return WorkerConfig(
        data=WorkerData(
            contact_flow_id=connect_info["contact_flow_id"],
            instance_id=connect_info["instance_id"],
            region=connect_info["region"],
            secret=DEMO_SECRET,
            queue_id=connect_info["queue_id"],
            failover_region_config=failover,
        ),
        name=DEMO_WORKER_NAME,
        type="amazon-connect-worker",
        description="The embedded default's worker, served by the local Amazon Connect",
    )


def ensure_demo_worker(registry: WorkerRegistry, connect_info: dict[str, Any]) -> str:
    """The demo worker's id: the one already stored (updated if the local Connect changed), else a new one.

    The region the operator switched it to (`run.py failover`) is kept: an update that named no active
    failover region would be an order back to the primary, which a restart must not give."""
    fresh = demo_worker_config(connect_info)
    for worker_id, stored in registry.list().items():
        if stored.name == DEMO_WORKER_NAME:
            config = _keeping_active_region(fresh, stored)
            if msgspec.structs.asdict(stored.data) != msgspec.structs.asdict(config.data):
                registry.update(worker_id, config, at=time.time())
            return worker_id
    return registry.create(fresh, at=time.time())


def _keeping_active_region(config: WorkerConfig, stored: WorkerConfig) -> WorkerConfig:
    """`config` with the stored worker's active failover region, if `config` still has that region."""
    failover, before = config.data.failover_region_config, stored.data.failover_region_config
    if failover is None or before is None:
        return config
    names = {region.name for region in failover.failover_regions}
    if before.active_failover_region not in names:
        return config
    kept = msgspec.structs.replace(failover, active_failover_region=before.active_failover_region)
    return msgspec.structs.replace(config, data=msgspec.structs.replace(config.data, failover_region_config=kept))
