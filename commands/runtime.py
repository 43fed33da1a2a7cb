"""Everything the service runs, started and stopped together: the worker service
(actors, timers, recovery), the webhook deliverer, the bots' HTTP API and the
status file `run.py status` reads, over one event store and the API clients
kept beside its log (in its SQLite file, or in its DynamoDB table); and the service's metrics and readiness, which the API serves."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from api import ApiServer, create_app
from cluster import ClusterNode
from actors.worker_tools import RunConnector
from api.request_body import DEFAULT_MAX_BODY_BYTES
from connect_client import ChatSocket
from delivery import WebhookDeliverer, delivery_routes
from delivery.ownership import DeliveryLeases
from delivery.backpressure import DEFAULT_LAG_LIMIT_SECONDS, Backpressure
from metrics import ServiceMetrics
from service.auto_failover import POLL_SECONDS, AutoFailover, AutoFailoverLoop, supervisor_health
from service.queue_metrics import DEFAULT_QUEUE_METRICS_TTL
from service.readiness import Readiness
from service.status_writer import INTERVAL_SECONDS, StatusWriter
from service.worker_service import RegionClientsFactory, WorkerService
from store import EventStore
from store.clients import ApiClients, SigningSecrets
from store.clients_of import clients_of
from store.service_lock import ServiceLock
from store.write_probe import WriteProbe
from vault import Vault


@dataclass(frozen=True)
class Running:
    service: WorkerService
    clients: ApiClients
    api_url: str
    deliverer: WebhookDeliverer

    @property
    def openapi_url(self) -> str:
        return self.api_url + "/openapi.json"

    @property
    def operator_page_url(self) -> str:
        return self.api_url + "/operator"


@contextmanager
def running_service(
    store: EventStore,
    region_clients: RegionClientsFactory,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    clock: Callable[[], float] = time.time,
    socket_factory: Callable[..., ChatSocket] = ChatSocket,
    queue_metrics_ttl: float = DEFAULT_QUEUE_METRICS_TTL,
    run_connector: RunConnector | None = None,
    vault: Vault | None = None,
    status_interval: float = INTERVAL_SECONDS,
    auto_failover: AutoFailover | None = None,
    auto_failover_poll: float = POLL_SECONDS,
    delivery_lag_limit: float = DEFAULT_LAG_LIMIT_SECONDS,
    cluster: ClusterNode | None = None,
) -> Iterator[Running]:
    """Start it all, yield, and stop it all. Only one service runs on a store: another one's lock
    raises ServiceAlreadyRunning. The API is served first; it yields once everything runs, while the live
    conversations are still being recovered on a thread of their own (`WorkerService.start`): the bots'
    routes serve meanwhile.

    Each conversation's webhooks are signed with the secret of the client that
    handed it over, read from the clients once and then kept (`SigningSecrets`: a secret never
    changes). `vault`: where vault references are resolved (None: the local vault in the store's
    file). The status file is written beside the store every `status_interval` seconds.
    `auto_failover`: None, off; else a worker whose region fails is ordered elsewhere, as checked every
    `auto_failover_poll` seconds (service/auto_failover.py). `delivery_lag_limit`: a bot whose oldest due
    webhook message has waited longer than this many seconds has its new messages and transfers refused
    with 429 (delivery/backpressure.py). `cluster`: this node, when several serve one DynamoDB log
    (docs/cluster.md): it runs only the conversations whose leases it holds, and forwards the bots'
    calls for the others to their nodes.
    """
    lock = ServiceLock(store.path).acquire()  # ServiceAlreadyRunning: one service per store
    clients = clients_of(store)  # beside the log: in its DynamoDB table, every node knows every bot
    metrics = ServiceMetrics()
    store.watch(metrics)
    readiness = None
    try:
        service = WorkerService(
            store, region_clients, clock=clock, socket_factory=socket_factory, queue_metrics_ttl=queue_metrics_ttl,
            run_connector=run_connector, vault=vault, observer=metrics, cluster=cluster,
        )
        deliverer = WebhookDeliverer(
            store, signing_secret=SigningSecrets(clients.signing_secret), leases=delivery_leases(store, cluster),
            known_clients=lambda: [client.id for client in clients.list()],
        )
        metrics.read_at_scrape(service, deliverer)
        readiness = Readiness(service, WriteProbe(store.path))
        app = create_app(
            service, clients, delivery_routes(store), max_body_bytes=max_body_bytes, metrics=metrics,
            readiness=readiness, backpressure=Backpressure(deliverer.lag, delivery_lag_limit),
        )
        server = ApiServer(app, host, port).start()
        try:
            service.start(server.url)
            try:
                deliverer.start()
                try:
                    status = StatusWriter(service, api_url=server.url, interval=status_interval).start()
                    failover = None
                    if auto_failover is not None:
                        failover = AutoFailoverLoop(
                            store, auto_failover, health=supervisor_health(service.supervisors), clock=clock,
                            poll_seconds=auto_failover_poll,
                        ).start()
                    try:
                        yield Running(service, clients, server.url, deliverer)
                    finally:
                        if failover is not None:
                            failover.stop()
                        status.stop()
                        server.stop()  # first, as before: no bot's request meets a stopping service
                finally:
                    deliverer.stop()
            finally:
                service.stop()
        finally:
            server.stop()
    finally:
        metrics.stop_reading()
        if readiness is not None:
            readiness.close()
        store.watch(None)
        clients.close()
        lock.release()


def delivery_leases(store: EventStore, cluster: ClusterNode | None) -> DeliveryLeases | None:
    """In a cluster, the bots' delivery leases of this node, in the log's table with the conversations'
    leases and for as long (delivery/ownership.py); None for the only node, which delivers for every bot."""
    if cluster is None:
        return None
    return DeliveryLeases(store.leases(), cluster.node_id, cluster.lease_seconds)
