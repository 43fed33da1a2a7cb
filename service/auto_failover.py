"""Automatic failover: a worker whose region has failed for long enough is ordered to another region,
as an operator's `run.py failover` would order it. Off unless `serve`'s configuration says

    "auto_failover": {"after_seconds": 120, "mode": "move"}

The rule (`decide`, pure): a worker's region in use (its active failover region, else its primary:
`connect_target`) is down when the service's calls there, signed as that worker's are, have failed at
least `MIN_FAILURES` times in a row and for `after_seconds` without an answer between
(connect_client/health.py). The worker is then ordered to the first region of its `FailoverRegions`,
in the file's order, that is not failing itself; one on a failover region goes back to its primary
first, if the primary is not failing. A region with no calls yet counts as not failing: nothing says
otherwise; and so does one with no failure for `after_seconds` (once everything has moved away from a
region, nothing calls it, and its last figures say nothing of it now). A region is never left for another in the same AWS region. After an automatic order, the
worker is left alone for `after_seconds`, so that two bad regions never make it flap.

The order goes through `WorkerRegistry.failover(..., by="auto")`, the operator's own path, so it
leaves the same events on the worker's stream and is carried out the same way
(service/failover_orders.py); each one is logged as one WARNING line saying why.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from structlog.contextvars import bound_contextvars

from actors.region import RegionSupervisor
from connect_client import HealthSnapshot
from events.rejection import Rejected
from events.worker import FailoverMode, WorkerState, connect_target
from events.worker_config import WorkerConfig, active_failover_region
from service.periodic import Periodic
from store import EventStore, StoreError
from store.workers import UnknownWorker, WorkerRegistry

log = logging.getLogger(__name__)

MIN_FAILURES = 3
POLL_SECONDS = 1.0

# Whose calls a health is of: (region, secret), as the service keeps one supervisor for each.
HealthKey = tuple[str, str | None]


class AutoFailover(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`serve`'s `auto_failover`: after how many seconds of failure a region is left, and what becomes
    of the live conversations there (the operator's --drain or --move)."""

    after_seconds: Annotated[float, msgspec.Meta(gt=0)]
    mode: FailoverMode


class AutoOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One order to give: worker `worker_id` to failover region `to` (None: back to its primary)."""

    worker_id: str
    worker_name: str
    to: str | None
    mode: FailoverMode
    from_region: str
    to_region: str
    failures: int
    failing_since: float


def decide(
    workers: Sequence[WorkerState],
    health: Mapping[HealthKey, HealthSnapshot],
    policy: AutoFailover,
    *,
    now: float,
    last_ordered: Mapping[str, float],
) -> list[AutoOrder]:
    """The orders to give now. `last_ordered`: when each worker was last given an automatic order."""
    orders = []
    for worker in workers:
        config = worker.config
        if config is None or worker.deleted:
            continue
        if now - last_ordered.get(worker.worker_id, -math.inf) < policy.after_seconds:
            continue
        current = connect_target(config)
        seen = health.get((current.region, current.secret))
        if seen is None or not is_down(seen, policy, now):
            continue
        for name, region, secret in _candidates(config):
            if region != current.region and not is_failing(health.get((region, secret)), policy, now):
                assert seen.failing_since is not None
                orders.append(
                    AutoOrder(
                        worker_id=worker.worker_id, worker_name=config.name, to=name, mode=policy.mode,
                        from_region=current.region, to_region=region, failures=seen.consecutive_failures,
                        failing_since=seen.failing_since,
                    )
                )
                break
    return orders


def is_failing(health: HealthSnapshot | None, policy: AutoFailover, now: float) -> bool:
    """At least `MIN_FAILURES` failures in a row, the last within `after_seconds`; None (no calls there
    yet) is not, and neither is a region nothing has called for that long (a region everything moved
    away from keeps its last figures: they say nothing of it now)."""
    return (
        health is not None
        and health.failing_since is not None
        and health.consecutive_failures >= MIN_FAILURES
        and health.last_failure_at is not None
        and now - health.last_failure_at < policy.after_seconds
    )


def is_down(health: HealthSnapshot, policy: AutoFailover, now: float) -> bool:
    """Failing now, and since `after_seconds` ago or longer."""
    return (
        is_failing(health, policy, now)
        and health.failing_since is not None
        and now - health.failing_since >= policy.after_seconds
    )


def _candidates(config: WorkerConfig) -> list[tuple[str | None, str, str]]:
    """Where the worker could go, best first: (failover region name or None for the primary, region, secret)."""
    failover = config.data.failover_region_config
    regions = failover.failover_regions if failover else []
    active = active_failover_region(config)
    active_name = None if active is None else active.name
    others = [(region.name, region.region, region.secret) for region in regions if region.name != active_name]
    if active is None:
        return others
    return [(None, config.data.region, config.data.secret), *others]


class AutoFailoverLoop:
    """Checks every `poll_seconds` and gives the orders `decide` says, on a thread of its own.

    `health()` answers each (region, secret) in use with its figures now (`supervisor_health`)."""

    def __init__(
        self,
        store: EventStore,
        policy: AutoFailover,
        *,
        health: Callable[[], Mapping[HealthKey, HealthSnapshot]],
        clock: Callable[[], float] = time.time,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._workers = WorkerRegistry(store)
        self._policy = policy
        self._health = health
        self._clock = clock
        self._last_ordered: dict[str, float] = {}
        self._loop = Periodic("auto failover", self.check, poll_seconds, at_once=False)

    def start(self) -> AutoFailoverLoop:
        self._loop.start()
        return self

    def stop(self) -> None:
        self._loop.stop()

    def check(self) -> list[AutoOrder]:
        """One pass: the orders given."""
        health = self._health()
        now = self._clock()
        if not any(is_down(seen, self._policy, now) for seen in health.values()):
            return []  # the usual case: no worker's streams read
        orders = decide(self._workers.states(), health, self._policy, now=now, last_ordered=self._last_ordered)
        return [order for order in orders if self._give(order, now)]

    def _give(self, order: AutoOrder, now: float) -> bool:
        with bound_contextvars(worker_id=order.worker_id):
            # Whatever becomes of it, the worker is left alone for after_seconds: a refused order is not
            # tried again every pass.
            self._last_ordered[order.worker_id] = now
            try:
                self._workers.failover(order.worker_id, to=order.to, mode=order.mode, at=now, by="auto")
            except (UnknownWorker, Rejected, StoreError) as error:
                log.warning("worker %s: automatic failover to %s not ordered: %s", order.worker_id, order.to_region, error)
                return False
            to = "its primary region" if order.to is None else f"failover region {order.to}"
            log.warning(
                "worker %s (%s): automatic failover from %s to %s (%s), mode %s: %d calls in a row failed in %s since %s",
                order.worker_id, order.worker_name, order.from_region, order.to_region, to, order.mode, order.failures,
                order.from_region, datetime.fromtimestamp(order.failing_since, UTC).isoformat(timespec="seconds"),
            )
            return True


def supervisor_health(
    supervisors: Callable[[], Sequence[RegionSupervisor]],
) -> Callable[[], dict[HealthKey, HealthSnapshot]]:
    """`AutoFailoverLoop`'s `health` over the service's region supervisors (`WorkerService.supervisors`)."""

    def health() -> dict[HealthKey, HealthSnapshot]:
        return {
            (supervisor.clients.region, supervisor.secret): supervisor.clients.health.snapshot()
            for supervisor in supervisors()
        }

    return health
