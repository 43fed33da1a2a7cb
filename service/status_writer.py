"""The thread that keeps the running service's status file (service/status_file.py) up to date.

    >>> writer = StatusWriter(service, api_url=url).start()   # writes at once, then every 2 s
    >>> writer.stop()                                        # a last one, saying it stopped

It reads only what the service already has at hand (each region supervisor's health and live actors,
and at the first pass recovery's fold of the live conversations) and what the store has appended
since its last pass (service/live_counts.py), so a pass costs little
however many conversations are live; and the webhook backlog, one query of an index lookup per live
conversation with a webhook with the log in the SQLite file (delivery/backlog.py: about 17 ms with
10,000), or with a DynamoDB log what was appended since the last pass.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from delivery.backlog import DeliveryBacklog
from service.live_counts import LiveCounts
from service.periodic import Periodic
from service.status_file import (
    RegionFigures,
    ServiceStatus,
    WorkerLive,
    service_version,
    status_path,
    write_status,
)
from store.file_size import store_size
from service.worker_service import WorkerService
from store.workers import WorkerRegistry

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 2.0
# How long the first status waits for recovery's fold of the live conversations (a second at 5,000)
# before it folds them itself.
FOLD_WAIT_SECONDS = 10.0


class StatusWriter:
    def __init__(
        self,
        service: WorkerService,
        *,
        api_url: str | None,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`clock`: the times written (Unix seconds); the service's own by default."""
        self._service = service
        self._api_url = api_url
        self._clock = clock or service.clock
        self._path = status_path(service.store.path)
        self._counts = LiveCounts(service.store, first=lambda: service.take_live_fold(FOLD_WAIT_SECONDS))
        self._delivery = DeliveryBacklog(service.store)
        self._workers = WorkerRegistry(service.store)
        self._started_at = self._clock()
        self._pid = os.getpid()
        self._version = service_version()
        self._failing = False
        self._loop = Periodic("status writer", self.write, interval, at_once=False)

    def start(self) -> StatusWriter:
        self.write()
        self._loop.start()
        return self

    def stop(self) -> None:
        """Stop the thread and write a last status that says the service stopped."""
        self._loop.stop()
        self.write(stopping=True)
        self._delivery.close()

    def write(self, *, stopping: bool = False) -> None:
        """Write the status now. A failure is logged once, not at every pass, until a write succeeds."""
        try:
            write_status(self._path, self.status(stopping=stopping))
        except Exception:  # noqa: BLE001 - a status not written must not stop the service; the next pass tries again
            if not self._failing:
                log.exception("the status file %s was not written (`run.py status` will call the service stale)", self._path)
            self._failing = True
        else:
            if self._failing:
                log.warning("the status file %s is written again", self._path)
            self._failing = False

    def status(self, *, stopping: bool = False) -> ServiceStatus:
        store = self._service.store
        last_position = store.last_position()
        names = {worker_id: config.name for worker_id, config in self._workers.list().items()}
        counts = self._counts.count()
        delivery = self._delivery.figures()
        now = self._clock()
        return ServiceStatus(
            pid=self._pid,
            version=self._version,
            started_at=self._started_at,
            written_at=now,
            stopped_at=now if stopping else None,
            api_url=self._api_url,
            store_path=str(store.path.resolve()),
            last_position=last_position,
            regions=[
                RegionFigures(
                    region=supervisor.clients.region,
                    secret=supervisor.secret,
                    live_conversations=supervisor.live_actors(),
                    health=supervisor.clients.health.snapshot(),
                )
                for supervisor in self._service.supervisors()
            ],
            live=[
                WorkerLive(
                    worker_id=count.worker_id,
                    worker_name=names.get(count.worker_id),
                    region=count.region,
                    conversations=count.conversations,
                )
                for count in counts
            ],
            store_size=store_size(store.path),
            delivery_lag=delivery.lag,
            webhook_backlog=delivery.backlog,
            timers_pending=self._counts.timers_pending(),
        )

