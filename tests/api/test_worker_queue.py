"""GET /v1/workers/{id}/queue answers before Amazon Connect is asked when there is nothing to ask it:
an unknown worker is a 404, a worker without a queue in the region in use a 409 naming the field to set.
(The figures themselves, the cache and Connect's failures: tests/service/test_worker_queue.py.)"""

from __future__ import annotations

import time

from msgspec.structs import replace

from store.workers import WorkerRegistry
from tests.api.conftest import Served
from tests.events.scenario import worker_config


def test_an_unknown_worker_is_a_404_naming_it(served: Served) -> None:
    status, body = served.api(served.alice).call("GET", "/v1/workers/no-such-worker/queue")
    assert status == 404
    assert body["Code"] == "unknown_worker" and "no-such-worker" in body["Message"]


def test_a_worker_without_a_queue_id_is_a_409_naming_data_queue_id_to_every_client(served: Served) -> None:
    worker = WorkerRegistry(served.store).create(worker_config(), at=time.time())
    for client in (served.alice, served.bob, served.admin):
        status, body = served.api(client).call("GET", f"/v1/workers/{worker}/queue")
        assert (status, body["Code"]) == (409, "no_queue")
        assert "$.Data.QueueId" in body["Message"] and worker in body["Message"]


def test_on_a_failover_region_without_a_queue_id_the_409_names_that_regions_field(served: Served) -> None:
    config = worker_config("us-west-2-oregon")
    config = replace(config, data=replace(config.data, queue_id="q-primary"))  # not the failover instance's queue
    worker = WorkerRegistry(served.store).create(config, at=time.time())
    status, body = served.api(served.alice).call("GET", f"/v1/workers/{worker}/queue")
    assert (status, body["Code"]) == (409, "no_queue")
    assert "$.Data.FailoverRegionConfig.FailoverRegions[0].QueueId" in body["Message"]
