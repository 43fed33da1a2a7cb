"""`run.py serve`'s configuration file (JSON, snake_case keys, unknown keys refused).

    {
      "data_dir": "/var/lib/connect-worker",
      "api_host": "127.0.0.1",
      "api_port": 8080,
      "max_body_bytes": 262144,
      "queue_metrics_cache_seconds": 5,
      "regions": {"eu-west-2": {"endpoint_url": null, "static_credentials": false, "sts_endpoint_url": null}},
      "connectors": {"endpoints": {"Translate": "http://127.0.0.1:8081"}, "static_credentials": false},
      "vault": {"backend": "local"},
      "auto_failover": {"after_seconds": 120, "mode": "move"},
      "store": {"dynamodb": {"table": "connect-worker-log", "region": "eu-west-2", "endpoint_url": null}},
      "delivery_lag_limit_seconds": 10,
      "cluster": {"node_id": "node-1", "url": "http://10.0.0.5:8080", "lease_seconds": 30}
    }

`regions` only overrides: a region not listed uses real AWS, each worker's
calls signed with the cross-account role its `Secret` names (assumed through
STS with the service's own credentials, boto3's default chain; roles/).
`endpoint_url` points a region elsewhere (a local Amazon Connect);
`static_credentials` signs with dummy keys instead, assuming no role and
reading no secret, which only a local Amazon Connect accepts; `sts_endpoint_url` points the STS
that assumes the region's roles elsewhere (a local Amazon Connect answers AssumeRole too), which only
matters without `static_credentials`. `max_body_bytes` is the largest request body
the bots' API reads (a larger one is refused with 413); absent, the API's
default (`api.request_body.DEFAULT_MAX_BODY_BYTES`, 256 KiB).
`queue_metrics_cache_seconds` is how long a queue's figures from Amazon
Connect answer `GET /v1/workers/{id}/queue` before Connect is asked again
(default 5: service/queue_metrics.py says why). `connectors` points the
services connectors call (by the connector's `Endpoint`, such as `Translate`
or `SES`) elsewhere than AWS; their calls are signed as each connector's
`Credentials` say (a cross-account role, or a `secretdoc` of access keys), or
with dummy keys when `static_credentials` is set.
`vault` says where the values of vault references are kept (vault/README.md): `{"backend":
"local"}` (the default: encrypted in the store's file, its key in `DATA/vault-secret.key`) or
`{"backend": "secretsmanager", "region": "eu-west-2", "endpoint_url": null}` (AWS Secrets Manager
with boto3's default credential chain; `endpoint_url` points it elsewhere).
`auto_failover` (absent: off) orders a worker to another region once the region it uses has failed
for `after_seconds` (more than 0), its live conversations drained or moved as `mode` (drain or move)
says (service/auto_failover.py).
`store` says where the event log is: absent (or `{}`), the SQLite file `DATA/events.db`; with `dynamodb`,
the DynamoDB table `table` in `region` (made by `run.py store create-table`), with boto3's default
credential chain, `endpoint_url` pointing it elsewhere. With a DynamoDB log the API clients are in its
table too; `DATA/events.db` keeps the rest of what is not the log on this node (the local vault, and
the delivery checkpoints unless `cluster` puts them in the table: docs/dynamodb-store.md).
`delivery_lag_limit_seconds` (default 10, more than 0): once the oldest webhook message due to a bot's
conversations has waited longer than this since it was recorded (not counting messages waiting for
their webhook's retry), that bot's new messages and transfers are refused with 429 and `Retry-After`
until delivery catches up (delivery/backpressure.py says why per bot, and why 10).
`cluster` (absent: this is the only node) makes this process one of several nodes serving one DynamoDB
log (so it needs `store.dynamodb`): `node_id` names it (unique among the nodes: 1 to 64 of A-Z a-z 0-9
_ . -), `url` is where the other nodes reach its bots' API to forward a call for a conversation it
serves, and `lease_seconds` (at least 3, default 30) how long a conversation's lease lasts unrenewed:
a node renews every third of it, and another node takes a stopped node's conversations over once it
has passed. It must exceed the nodes' clock skew by far (docs/cluster.md). A cluster needs the vault
in Secrets Manager (`"vault": {"backend": "secretsmanager", ...}`): the local vault is a file of one
node, so the others would not find a worker's role or the short links' key (docs/dynamodb-store.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec

from cluster import ClusterNode, NodeTable
from cluster.node import DEFAULT_LEASE_SECONDS
from connect_client import RegionClients, static_session
from roles import RoleSessions, VaultCredentials
from roles.sessions import default_sts_client
from delivery.backpressure import DEFAULT_LAG_LIMIT_SECONDS
from events.json_syntax import describe_syntax_error
from service.auto_failover import AutoFailover
from service.connector_runner import ConnectorRunner
from service.queue_metrics import DEFAULT_QUEUE_METRICS_TTL
from service.worker_service import RegionClientsFactory
from store import EventStore
from store.data_folder import STORE_FILE
from store.dynamo_event_store import DynamoEventStore
from store.dynamo_table import REGION_NAME, TABLE_NAME
from store.event_log import EventLog
from vault import LocalVault, SecretsManagerVault, Vault


class RegionOverride(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    endpoint_url: str | None = None
    static_credentials: bool = False
    sts_endpoint_url: str | None = None


class ConnectorOverrides(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    endpoints: dict[str, str] = {}
    static_credentials: bool = False


class LocalVaultConfig(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="backend", tag="local"
):
    pass


class SecretsManagerVaultConfig(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="backend", tag="secretsmanager"
):
    region: str
    endpoint_url: str | None = None


VaultConfig = LocalVaultConfig | SecretsManagerVaultConfig


class DynamoStoreConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    table: Annotated[str, msgspec.Meta(pattern=TABLE_NAME)]
    region: Annotated[str, msgspec.Meta(pattern=REGION_NAME)]
    endpoint_url: Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/]+")] | None = None


class StoreConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    dynamodb: DynamoStoreConfig | None = None  # None: the SQLite file in the data folder


class ClusterConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    node_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    url: Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/]+/?$")]
    lease_seconds: Annotated[float, msgspec.Meta(ge=3)] = DEFAULT_LEASE_SECONDS


class ServeConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    data_dir: str
    api_host: str = "127.0.0.1"
    api_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8080  # 0: a free one
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1)] | None = None  # None: the API's default, 256 KiB
    queue_metrics_cache_seconds: Annotated[float, msgspec.Meta(gt=0)] = DEFAULT_QUEUE_METRICS_TTL
    regions: dict[str, RegionOverride] = {}
    connectors: ConnectorOverrides = ConnectorOverrides()
    vault: VaultConfig = LocalVaultConfig()
    auto_failover: AutoFailover | None = None  # None: off
    store: StoreConfig = StoreConfig()
    delivery_lag_limit_seconds: Annotated[float, msgspec.Meta(gt=0)] = DEFAULT_LAG_LIMIT_SECONDS
    cluster: ClusterConfig | None = None  # None: the only node

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def store_path(self) -> Path:
        """The event store serve writes and doctor reads: one name, so both open the same file."""
        return self.data_path / STORE_FILE


class InvalidServeConfig(ValueError):
    pass


def load_serve_config(data: bytes) -> ServeConfig:
    """Raises InvalidServeConfig naming the JSON path (or the line and column, for a syntax error)."""
    try:
        config = msgspec.json.decode(data, type=ServeConfig)
    except msgspec.ValidationError as error:
        raise InvalidServeConfig(str(error)) from None
    except msgspec.DecodeError as error:
        raise InvalidServeConfig(describe_syntax_error(data, str(error))) from None
    if config.cluster is not None and config.store.dynamodb is None:
        raise InvalidServeConfig(
            "nodes of a cluster share a DynamoDB log: set `store.dynamodb` too, or remove `cluster` - at `$.cluster`"
        )
    if config.cluster is not None and isinstance(config.vault, LocalVaultConfig):
        raise InvalidServeConfig(
            "nodes of a cluster share their secrets, which the local vault keeps in each node's own file: set"
            ' `vault` to {"backend": "secretsmanager", "region": ...} - at `$.vault`'
        )
    return config


def cluster_node(config: ServeConfig, store: EventLog) -> ClusterNode | None:
    """This node, when `config` says it is one of a cluster (None: the only node); its leases and node
    item are in the DynamoDB log's table, through the store's client."""
    settings = config.cluster
    if settings is None:
        return None
    assert isinstance(store, DynamoEventStore), "load_serve_config refuses a cluster without a DynamoDB log"
    return ClusterNode(
        store.leases(), NodeTable(store.client, store.table), settings.node_id, settings.lease_seconds, settings.url
    )


def open_event_log(config: ServeConfig) -> EventLog:
    """The event log `config.store` names; the SQLite file at `config.store_path` is made either way
    (for the DynamoDB log it keeps what is not the log). Raises StoreError if it cannot be opened."""
    dynamodb = config.store.dynamodb
    if dynamodb is None:
        return EventStore.open(config.store_path)
    return DynamoEventStore.open(
        dynamodb.table, dynamodb.region, local_path=config.store_path, endpoint_url=dynamodb.endpoint_url
    )


def role_sessions(config: ServeConfig, vault: Vault) -> RoleSessions:
    """Roles assumed through STS in each region they serve, at the region's `sts_endpoint_url` if set."""

    def sts_client(region: str) -> Any:
        return default_sts_client(region, config.regions.get(region, RegionOverride()).sts_endpoint_url)

    return RoleSessions(vault, sts_client=sts_client)


def region_clients(config: ServeConfig, vault: Vault, *, roles: RoleSessions | None = None) -> RegionClientsFactory:
    """Each (region, secret)'s clients: signed with the role `secret` names, assumed through `roles`
    (by default STS with the service's own credentials) at their first call; with dummy keys where the
    region's override says `static_credentials`; with the service's own credentials for a conversation
    logged before roles were assumed (no secret)."""
    roles = roles or role_sessions(config, vault)

    def create(region: str, secret: str | None) -> RegionClients:
        override = config.regions.get(region, RegionOverride())
        if override.static_credentials:
            session = static_session()
        elif secret is None:
            session = None
        else:
            session = roles.for_connect(secret, region)
        return RegionClients.create(region, endpoint_url=override.endpoint_url, session=session)

    return create


def connector_runner(
    config: ServeConfig, store: EventStore, vault: Vault, *, roles: RoleSessions | None = None
) -> ConnectorRunner:
    """How conversations call connectors: at AWS, signed as each connector's `Credentials` say, unless overridden."""
    overrides = config.connectors
    if overrides.static_credentials:
        return ConnectorRunner(store, credentials=lambda reference: static_session(), endpoints=overrides.endpoints)
    credentials = VaultCredentials(vault, roles or role_sessions(config, vault))
    return ConnectorRunner(store, credentials=credentials, endpoints=overrides.endpoints)


def open_vault(config: VaultConfig, store_path: Path) -> Vault:
    """The vault `config` names; the local one lives in the store's file at `store_path` (which the
    store must have created), its key beside it."""
    if isinstance(config, SecretsManagerVaultConfig):
        return SecretsManagerVault.create(config.region, endpoint_url=config.endpoint_url)
    return LocalVault(store_path)
