"""The queue whose figures a worker's bots read before they transfer (`GET /v1/workers/{id}/queue`).

It is the queue of the region new transfers go to (`connect_target`): the primary's `Data.QueueId`,
or the active failover region's own `QueueId` (a queue of another instance, never the primary's).
"""

from __future__ import annotations

import msgspec

from events.worker import connect_target
from events.worker_config import WorkerConfig, active_failover_region


class QueueTarget(msgspec.Struct, frozen=True, kw_only=True):
    """Where to read the worker's queue; `queue_id` is None when the worker file has none there, and
    `queue_field` is the JSON path of the worker file's field that holds (or would hold) it. `secret`
    is the vault reference of the role that region's calls are signed with."""

    region: str
    instance_id: str
    queue_id: str | None
    queue_field: str
    secret: str | None = None


def queue_target(config: WorkerConfig) -> QueueTarget:
    target = connect_target(config)
    failover = active_failover_region(config)
    failovers = config.data.failover_region_config
    if failover is None or failovers is None:
        return QueueTarget(
            region=target.region,
            instance_id=target.instance_id,
            queue_id=config.data.queue_id,
            queue_field="$.Data.QueueId",
            secret=target.secret,
        )
    index = failovers.failover_regions.index(failover)
    return QueueTarget(
        region=target.region,
        instance_id=target.instance_id,
        queue_id=failover.queue_id,
        queue_field=f"$.Data.FailoverRegionConfig.FailoverRegions[{index}].QueueId",
        secret=target.secret,
    )
