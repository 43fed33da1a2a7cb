"""`GET /v1/workers` and `GET /v1/workers/{id}`: the region each worker's new transfers start in, as
failover orders change it, and its last order; never a secret or a vault reference."""

from __future__ import annotations

import json
import time

import msgspec

from events.worker_config import FailoverRegion, FailoverRegionConfig
from store.workers import WorkerRegistry
from tests.service.conftest import Running
from tests.service.harness import wait_for


def test_a_worker_shows_its_active_region_and_follows_a_failover_order(running: Running) -> None:
    workers = WorkerRegistry(running.store)
    config = workers.get(running.worker_id)
    dublin = FailoverRegion(name="dublin", secret="srn:vault::local:aws-cross-account-role:dublin", region="eu-west-1",
                            instance_id="instance-dublin", contact_flow_id="flow-dublin", queue_id="queue-dublin")
    data = msgspec.structs.replace(config.data, failover_region_config=FailoverRegionConfig(failover_regions=[dublin]))
    workers.update(running.worker_id, msgspec.structs.replace(config, data=data), at=time.time())

    status, body = running.api.call("GET", f"/v1/workers/{running.worker_id}")
    assert status == 200
    assert body["ActiveRegion"]["Name"] is None and body["ActiveRegion"]["Region"] == "us-east-1"
    assert body["FailoverRegions"] == ["dublin"] and body["FailoverOrder"] is None

    order = workers.failover(running.worker_id, to="dublin", mode="move", at=time.time()).failover_order
    status, body = running.api.call("GET", f"/v1/workers/{running.worker_id}")
    assert body["ActiveRegion"] == {"Name": "dublin", "Region": "eu-west-1", "InstanceId": "instance-dublin",
                                    "ContactFlowId": "flow-dublin", "QueueId": "queue-dublin"}
    assert body["FailoverOrder"]["Order"] == order and body["FailoverOrder"]["Mode"] == "move"
    # No live conversation: the running service records it carried out at once.
    wait_for(lambda: running.api.call("GET", f"/v1/workers/{running.worker_id}")[1]["FailoverOrder"]["CarriedOut"],
             "the order to be carried out")
    status, listing = running.api.call("GET", "/v1/workers")
    assert status == 200 and [w["WorkerId"] for w in listing["Workers"]] == [running.worker_id]
    assert "srn:vault" not in json.dumps(listing)


def test_an_unknown_worker_is_404_with_its_code(running: Running) -> None:
    status, body = running.api.call("GET", "/v1/workers/nobody")
    assert status == 404 and body["Code"] == "unknown_worker"
