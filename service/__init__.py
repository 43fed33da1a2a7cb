"""The worker service wired together: store, region supervisors, timers, recovery. See actors/README.md."""

from service.worker_service import (
    ConversationNotFound,
    RegionClientsFactory,
    WorkerDisabled,
    WorkerService,
    local_regions,
)

__all__ = ["ConversationNotFound", "RegionClientsFactory", "WorkerDisabled", "WorkerService", "local_regions"]
