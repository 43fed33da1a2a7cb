"""`serve`'s configuration picks the event log: the SQLite file by default, or a DynamoDB table."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.serve_config import (
    ClusterConfig,
    DynamoStoreConfig,
    InvalidServeConfig,
    StoreConfig,
    cluster_node,
    load_serve_config,
    open_event_log,
)
from store import EventStore, NewEvent
from store.dynamo_event_store import DynamoEventStore
from store.dynamo_table import DynamoTableError
from tests.support.dynamodb import REGION, fresh_table


def test_the_sqlite_file_is_the_default(tmp_path: Path) -> None:
    assert load_serve_config(b'{"data_dir": "d"}').store == StoreConfig()
    assert load_serve_config(b'{"data_dir": "d", "store": {}}').store == StoreConfig()
    config = load_serve_config(f'{{"data_dir": "{tmp_path}"}}'.encode())

    with open_event_log(config) as log:
        assert isinstance(log, EventStore)
        assert log.path == tmp_path / "events.db"


@pytest.mark.usefixtures("dynamodb_credentials")
def test_a_dynamodb_table_is_picked_with_its_region_and_endpoint(tmp_path: Path, dynamodb_endpoint: str) -> None:
    table = fresh_table(dynamodb_endpoint)
    config = load_serve_config(
        f'{{"data_dir": "{tmp_path}", "store": {{"dynamodb": {{"table": "{table}", "region": "{REGION}",'
        f' "endpoint_url": "{dynamodb_endpoint}"}}}}}}'.encode()
    )
    assert config.store.dynamodb == DynamoStoreConfig(table=table, region=REGION, endpoint_url=dynamodb_endpoint)

    with open_event_log(config) as log:
        assert isinstance(log, DynamoEventStore)
        assert log.table == table
        log.append("s", [NewEvent("A", b"{}")], 0)
        # What is not the log stays in the data folder's SQLite file, whose log is empty.
        assert log.path == tmp_path / "events.db"
    with EventStore.open(tmp_path / "events.db") as local:
        assert local.last_position() == 0


@pytest.mark.usefixtures("dynamodb_credentials")
def test_a_missing_table_is_an_error_naming_it(tmp_path: Path, dynamodb_endpoint: str) -> None:
    config = load_serve_config(
        f'{{"data_dir": "{tmp_path}", "store": {{"dynamodb": {{"table": "missing", "region": "{REGION}",'
        f' "endpoint_url": "{dynamodb_endpoint}"}}}}}}'.encode()
    )
    with pytest.raises(DynamoTableError, match="no DynamoDB table 'missing'"):
        open_event_log(config)


@pytest.mark.parametrize(
    ("store", "names"),
    [
        ('{"dynamodb": {"region": "eu-west-2"}}', "missing required field `table` - at `$.store.dynamodb`"),
        ('{"dynamodb": {"table": "x", "region": "eu-west-2"}}', "at `$.store.dynamodb.table`"),
        ('{"dynamodb": {"table": "log", "region": "Europe"}}', "at `$.store.dynamodb.region`"),
        ('{"dynamodb": {"table": "log", "region": "eu-west-2", "endpoint_url": "localhost"}}',
         "at `$.store.dynamodb.endpoint_url`"),
        ('{"dynamodb": {"table": "log", "region": "eu-west-2", "tabel": "x"}}', "unknown field `tabel`"),
        ('{"sqlite": {}}', "unknown field `sqlite` - at `$.store`"),
    ],
)
def test_bad_store_settings_are_refused_naming_the_field(store: str, names: str) -> None:
    with pytest.raises(InvalidServeConfig) as refused:
        load_serve_config(f'{{"data_dir": "d", "store": {store}}}'.encode())

    assert names in str(refused.value)


def test_a_cluster_node_is_configured_with_its_id_url_and_lease() -> None:
    config = load_serve_config(
        b'{"data_dir": "d", "store": {"dynamodb": {"table": "log", "region": "eu-west-2"}},'
        b' "cluster": {"node_id": "node-1", "url": "http://10.0.0.5:8080"}}'
    )
    assert config.cluster == ClusterConfig(node_id="node-1", url="http://10.0.0.5:8080", lease_seconds=30.0)
    assert load_serve_config(b'{"data_dir": "d"}').cluster is None


@pytest.mark.parametrize(
    ("cluster", "names"),
    [
        ('{"url": "http://a:1"}', "missing required field `node_id` - at `$.cluster`"),
        ('{"node_id": "n 1", "url": "http://a:1"}', "at `$.cluster.node_id`"),
        ('{"node_id": "n1"}', "missing required field `url` - at `$.cluster`"),
        ('{"node_id": "n1", "url": "a:1"}', "at `$.cluster.url`"),
        ('{"node_id": "n1", "url": "http://a:1", "lease_seconds": 1}', "at `$.cluster.lease_seconds`"),
        ('{"node_id": "n1", "url": "http://a:1", "lease": 30}', "unknown field `lease` - at `$.cluster`"),
    ],
)
def test_bad_cluster_settings_are_refused_naming_the_field(cluster: str, names: str) -> None:
    with pytest.raises(InvalidServeConfig) as refused:
        load_serve_config(
            f'{{"data_dir": "d", "store": {{"dynamodb": {{"table": "log", "region": "eu-west-2"}}}}, "cluster": {cluster}}}'.encode()
        )

    assert names in str(refused.value)


def test_a_cluster_without_a_dynamodb_log_is_refused_naming_both() -> None:
    with pytest.raises(InvalidServeConfig, match=r"set `store.dynamodb` too, or remove `cluster` - at `\$.cluster`"):
        load_serve_config(b'{"data_dir": "d", "cluster": {"node_id": "n1", "url": "http://a:1"}}')


@pytest.mark.usefixtures("dynamodb_credentials")
def test_a_cluster_node_is_made_on_the_logs_own_table(tmp_path: Path, dynamodb_endpoint: str) -> None:
    table = fresh_table(dynamodb_endpoint)
    config = load_serve_config(
        f'{{"data_dir": "{tmp_path}", "store": {{"dynamodb": {{"table": "{table}", "region": "{REGION}",'
        f' "endpoint_url": "{dynamodb_endpoint}"}}}}, "cluster": {{"node_id": "n1", "url": "http://a:1",'
        f' "lease_seconds": 9}}}}'.encode()
    )
    with open_event_log(config) as log:
        node = cluster_node(config, log)
        assert node is not None
        assert (node.node_id, node.url, node.lease_seconds, node.renew_seconds) == ("n1", "http://a:1", 9.0, 3.0)
        assert node.claim("c-1").owner == "n1"
        assert log.leases().get("conversation-c-1").token == 1  # type: ignore[attr-defined,union-attr]
    assert cluster_node(load_serve_config(b'{"data_dir": "d"}'), log) is None
