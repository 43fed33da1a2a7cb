"""A worker's queue figures for its bots: Amazon Connect's GetCurrentMetricData on the worker's queue,
each queue's answer kept a few seconds and fetched once at a time however many bots ask.

Amazon Connect's default quota for GetCurrentMetricData is 5 requests a second, with bursts of 8, per
AWS account and region: every instance there and every other caller (dashboards, wallboards) share it.
Kept 5 seconds (the default), a queue costs at most one call per 5 seconds whatever the number of bots
asking: 0.2 calls a second, so 25 queues of one account and region asked without pause use the quota.
A failed call is kept as long, so a burst of bots on a throttled Connect does not throttle it more.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from connect_client import ConnectError, Contacts, QueueMetrics
from events.worker_queue import QueueTarget
from service.single_flight_cache import SingleFlightCache

log = logging.getLogger(__name__)

DEFAULT_QUEUE_METRICS_TTL = 5.0


class NoQueue(Exception):
    def __init__(self, worker_id: str, queue_field: str) -> None:
        super().__init__(f"worker {worker_id!r} has no queue to read: its file sets no {queue_field}")
        self.worker_id = worker_id


class QueueMetricsUnavailable(Exception):
    """GetCurrentMetricData failed, now or less than the cache's seconds ago: `error` says how (a
    `RetryableError` may pass, a `PermanentError` needs the worker or the account fixed), and
    `retry_after` is the whole seconds until Connect will be asked again."""

    def __init__(self, error: ConnectError, retry_after: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class QueueReading:
    worker_id: str
    region: str
    queue_id: str
    metrics: QueueMetrics
    as_of: float  # when Connect answered, on the service's clock
    age_seconds: float


def retry_after(at: float, now: float, ttl: float) -> int:
    """Whole seconds until an answer kept since `at` goes stale (at least 1)."""
    return max(1, math.ceil(at + ttl - now))


class QueueMetricsReader:
    """Reads queues through `contacts_in(region, secret)`, the Connect calls of a region signed with the
    role `secret` names, keeping each answer `ttl` seconds."""

    def __init__(
        self, contacts_in: Callable[[str, str | None], Contacts], *, ttl: float, clock: Callable[[], float]
    ) -> None:
        self._contacts_in = contacts_in
        self._clock = clock
        # Keyed by the queue itself and the role that reads it: workers sharing a queue and a role share
        # its calls, a worker whose role may not read it is not answered from another's, and a worker that
        # moves to another queue (its file changed, a failover began) is answered for that queue at once.
        self._cache: SingleFlightCache[tuple[str | None, str, str, str], QueueMetrics | ConnectError] = (
            SingleFlightCache(ttl, clock)
        )

    def read(self, worker_id: str, target: QueueTarget) -> QueueReading:
        """Raises NoQueue for a target without a queue, QueueMetricsUnavailable when Connect failed."""
        queue_id = target.queue_id
        if queue_id is None:
            raise NoQueue(worker_id, target.queue_field)
        key = (target.secret, target.region, target.instance_id, queue_id)
        kept = self._cache.get(key, lambda: self._fetch(*key))
        now = self._clock()
        if isinstance(kept.value, ConnectError):
            raise QueueMetricsUnavailable(kept.value, retry_after(kept.at, now, self._cache.ttl))
        return QueueReading(
            worker_id=worker_id,
            region=target.region,
            queue_id=queue_id,
            metrics=kept.value,
            as_of=kept.at,
            age_seconds=max(0.0, now - kept.at),
        )

    def _fetch(self, secret: str | None, region: str, instance_id: str, queue_id: str) -> QueueMetrics | ConnectError:
        try:
            return self._contacts_in(region, secret).queue_metrics(instance_id, queue_id)
        except ConnectError as error:
            log.warning("queue %s of instance %s in %s (secret %s): %s", queue_id, instance_id, region, secret, error)
            return error
