"""The queue a worker's bots read: the primary's Data.QueueId, or the active failover region's own."""

from __future__ import annotations

from msgspec.structs import replace

from events.worker_config import WorkerConfig
from events.worker_queue import QueueTarget, queue_target
from tests.events.scenario import worker_config


def with_queues(config: WorkerConfig, primary: str | None, dublin: str | None) -> WorkerConfig:
    """`config` with QueueIds on the primary and on its second failover region, eu-west-1-dublin."""
    failovers = config.data.failover_region_config
    assert failovers is not None
    oregon, dublin_region = failovers.failover_regions
    regions = [oregon, replace(dublin_region, queue_id=dublin)]
    failovers = replace(failovers, failover_regions=regions)
    return replace(config, data=replace(config.data, queue_id=primary, failover_region_config=failovers))


def test_the_primary_regions_queue_while_no_failover_is_active() -> None:
    assert queue_target(with_queues(worker_config(), "q-primary", "q-dublin")) == QueueTarget(
        region="us-east-1",
        instance_id="instance-1",
        queue_id="q-primary",
        queue_field="$.Data.QueueId",
        secret="srn:vault::acme:aws-cross-account-role:connect",
    )


def test_the_active_failover_regions_own_queue() -> None:
    assert queue_target(with_queues(worker_config("eu-west-1-dublin"), "q-primary", "q-dublin")) == QueueTarget(
        region="eu-west-1",
        instance_id="instance-3",
        queue_id="q-dublin",
        queue_field="$.Data.FailoverRegionConfig.FailoverRegions[1].QueueId",
        secret="srn:vault::acme:aws-cross-account-role:failover",
    )


def test_no_queue_names_the_field_to_set_and_never_borrows_the_primarys() -> None:
    primary_only = with_queues(worker_config("eu-west-1-dublin"), "q-primary", None)
    assert queue_target(primary_only).queue_id is None
    assert queue_target(primary_only).queue_field == "$.Data.FailoverRegionConfig.FailoverRegions[1].QueueId"
    assert queue_target(with_queues(worker_config(), None, "q-dublin")).queue_id is None


def test_an_active_failover_region_that_names_none_leaves_the_primarys_queue() -> None:
    assert queue_target(with_queues(worker_config("atlantis"), "q-primary", "q-dublin")).queue_id == "q-primary"
