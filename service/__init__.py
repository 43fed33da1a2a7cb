"""The worker service wired together: store, region supervisors, timers, recovery, workers' queue figures.
See actors/README.md."""

from service.queue_metrics import NoQueue, QueueMetricsUnavailable, QueueReading
from service.worker_service import (
    ConversationNotFound,
    RegionClientsFactory,
    WorkerDisabled,
    WorkerService,
    local_regions,
)

__all__ = [
    "ConversationNotFound",
    "NoQueue",
    "QueueMetricsUnavailable",
    "QueueReading",
    "RegionClientsFactory",
    "WorkerDisabled",
    "WorkerService",
    "local_regions",
]
