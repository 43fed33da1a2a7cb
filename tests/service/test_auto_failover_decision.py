"""The automatic failover rule, pure: workers' states and regions' health in, orders out."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from connect_client import HealthSnapshot
from events.worker import WorkerState
from events.worker_config import WorkerConfig, parse_worker_config
from service.auto_failover import MIN_FAILURES, AutoFailover, AutoOrder, HealthKey, decide, is_down, is_failing
from tests.events.scenario import worker_config

PRIMARY_SECRET = "srn:vault::acme:aws-cross-account-role:connect"
FAILOVER_SECRET = "srn:vault::acme:aws-cross-account-role:failover"
EAST = ("us-east-1", PRIMARY_SECRET)     # the primary
OREGON = ("us-west-2", FAILOVER_SECRET)  # failover region us-west-2-oregon, the first
DUBLIN = ("eu-west-1", FAILOVER_SECRET)  # failover region eu-west-1-dublin, the second

POLICY = AutoFailover(after_seconds=120, mode="move")
NOW = 10_000.0


def healthy() -> HealthSnapshot:
    return HealthSnapshot(
        calls=50, errors=0, throttles=0, window_calls=50, error_rate=0.0, throttle_rate=0.0, latency_p50_ms=40.0,
        latency_p99_ms=90.0, consecutive_failures=0, last_success_at=NOW - 1, last_failure_at=None, failing_since=None,
    )


def failing(for_seconds: float = 300, failures: int = 10) -> HealthSnapshot:
    return msgspec.structs.replace(
        healthy(), errors=failures, consecutive_failures=failures, failing_since=NOW - for_seconds,
        last_failure_at=NOW - 1, last_success_at=NOW - for_seconds - 1,
    )


def worker(worker_id: str = "w-1", active: str | None = None, config: WorkerConfig | None = None) -> WorkerState:
    return WorkerState(worker_id=worker_id, version=1, config=config or worker_config(active))


def orders(
    workers: list[WorkerState],
    health: dict[HealthKey, HealthSnapshot],
    *,
    policy: AutoFailover = POLICY,
    now: float = NOW,
    last_ordered: dict[str, float] | None = None,
) -> list[AutoOrder]:
    return decide(workers, health, policy, now=now, last_ordered=last_ordered or {})


def where(found: list[AutoOrder]) -> list[tuple[str, str | None]]:
    return [(order.worker_id, order.to) for order in found]


def test_a_worker_whose_region_answers_is_left_alone() -> None:
    assert orders([worker()], {EAST: healthy(), OREGON: healthy()}) == []


def test_a_primary_down_for_the_configured_time_sends_the_worker_to_its_first_failover_region() -> None:
    since = NOW - 120

    [order] = orders([worker()], {EAST: failing(for_seconds=120, failures=7)})

    assert order == AutoOrder(
        worker_id="w-1", worker_name="ConnectOne", to="us-west-2-oregon", mode="move", from_region="us-east-1",
        to_region="us-west-2", failures=7, failing_since=since,
    )


def test_a_region_failing_for_less_than_the_configured_time_is_not_left() -> None:
    assert orders([worker()], {EAST: failing(for_seconds=119.9)}) == []


@pytest.mark.parametrize("failures", range(MIN_FAILURES))
def test_fewer_failures_in_a_row_than_the_minimum_are_no_outage_however_long_ago_the_first(failures: int) -> None:
    thin = msgspec.structs.replace(failing(for_seconds=3_600), consecutive_failures=failures)

    assert orders([worker()], {EAST: thin}) == []


def test_the_minimum_of_failures_in_a_row_is_enough() -> None:
    assert where(orders([worker()], {EAST: failing(failures=MIN_FAILURES)})) == [("w-1", "us-west-2-oregon")]


def test_a_failover_region_failing_itself_is_passed_over_for_the_next() -> None:
    health = {EAST: failing(), OREGON: failing(for_seconds=5, failures=MIN_FAILURES)}

    assert where(orders([worker()], health)) == [("w-1", "eu-west-1-dublin")]


def test_a_failover_region_with_a_few_failures_is_still_a_place_to_go() -> None:
    health = {EAST: failing(), OREGON: failing(failures=MIN_FAILURES - 1)}

    assert where(orders([worker()], health)) == [("w-1", "us-west-2-oregon")]


def test_no_order_when_every_other_region_fails_too() -> None:
    health = {EAST: failing(), OREGON: failing(), DUBLIN: failing(for_seconds=1, failures=MIN_FAILURES)}

    assert orders([worker()], health) == []


def test_a_worker_on_a_failing_failover_region_goes_back_to_its_primary_when_the_primary_answers() -> None:
    for primary in (healthy(), None):  # answering, or no calls there since the service started
        health = {OREGON: failing()} | ({EAST: primary} if primary else {})

        [order] = orders([worker(active="us-west-2-oregon")], health)

        assert (order.to, order.from_region, order.to_region) == (None, "us-west-2", "us-east-1")


def test_a_worker_on_a_failing_failover_region_goes_to_the_next_one_when_the_primary_fails_too() -> None:
    health = {OREGON: failing(), EAST: failing()}

    assert where(orders([worker(active="us-west-2-oregon")], health)) == [("w-1", "eu-west-1-dublin")]


def test_after_an_automatic_order_the_worker_is_left_alone_for_the_configured_time() -> None:
    health = {EAST: failing()}

    assert orders([worker()], health, last_ordered={"w-1": NOW - 119}) == []
    assert where(orders([worker()], health, last_ordered={"w-1": NOW - 120})) == [("w-1", "us-west-2-oregon")]
    assert where(orders([worker()], health, last_ordered={"other": NOW})) == [("w-1", "us-west-2-oregon")]


def test_the_health_that_counts_is_of_the_calls_signed_as_the_worker_signs_them() -> None:
    health = {("us-east-1", "srn:vault::other:aws-cross-account-role:connect"): failing(), EAST: healthy()}

    assert orders([worker()], health) == []


def test_a_worker_without_failover_regions_stays_where_it_is() -> None:
    raw: dict[str, Any] = msgspec.to_builtins(worker_config())
    del raw["Data"]["FailoverRegionConfig"]

    assert orders([worker(config=parse_worker_config(msgspec.json.encode(raw)))], {EAST: failing()}) == []


def test_a_failover_region_in_the_same_aws_region_is_no_way_out() -> None:
    raw: dict[str, Any] = msgspec.to_builtins(worker_config())
    raw["Data"]["FailoverRegionConfig"]["FailoverRegions"][0]["Region"] = "us-east-1"
    config = parse_worker_config(msgspec.json.encode(raw))

    assert where(orders([worker(config=config)], {EAST: failing()})) == [("w-1", "eu-west-1-dublin")]


def test_an_active_failover_region_that_names_none_leaves_the_worker_on_its_primary() -> None:
    health = {EAST: failing()}

    assert where(orders([worker(active="no-such-region")], health)) == [("w-1", "us-west-2-oregon")]


def test_deleted_workers_and_workers_not_created_are_left_alone() -> None:
    deleted = msgspec.structs.replace(worker(), deleted=True)
    never = WorkerState(worker_id="w-2")

    assert orders([deleted, never], {EAST: failing()}) == []


def test_each_worker_in_the_failing_region_is_ordered_with_the_configured_mode() -> None:
    in_east = [worker("w-1"), worker("w-2")]
    in_oregon = worker("w-3", active="us-west-2-oregon")

    found = orders([*in_east, in_oregon], {EAST: failing(), OREGON: healthy()}, policy=AutoFailover(60, "drain"))

    assert where(found) == [("w-1", "us-west-2-oregon"), ("w-2", "us-west-2-oregon")]
    assert {order.mode for order in found} == {"drain"}


def test_failing_and_down() -> None:
    assert not is_failing(None, POLICY, NOW) and not is_failing(healthy(), POLICY, NOW)
    assert is_failing(failing(for_seconds=0, failures=MIN_FAILURES), POLICY, NOW)
    assert not is_down(failing(for_seconds=0, failures=MIN_FAILURES), POLICY, NOW)
    assert is_down(failing(for_seconds=120, failures=MIN_FAILURES), POLICY, NOW)
    assert not is_down(healthy(), POLICY, NOW)


def stale(health: HealthSnapshot) -> HealthSnapshot:
    """The figures of a region nothing has called since long before `after_seconds` ago."""
    return msgspec.structs.replace(health, last_failure_at=NOW - 10 * POLICY.after_seconds)


def test_a_region_nothing_has_called_for_after_seconds_is_judged_on_nothing() -> None:
    assert not is_failing(stale(failing()), POLICY, NOW) and not is_down(stale(failing()), POLICY, NOW)
