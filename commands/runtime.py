"""Everything the service runs, started and stopped together: the worker service
(actors, timers, recovery), the webhook deliverer and the bots' HTTP API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api import ApiServer, create_app, load_or_create_secret
from connect_client import ChatSocket
from delivery import WebhookDeliverer, delivery_routes
from service.worker_service import RegionClientsFactory, WorkerService
from store import EventStore

API_TOKEN_FILE = "api-token"
WEBHOOK_SECRET_FILE = "webhook-secret"


@dataclass(frozen=True)
class Running:
    service: WorkerService
    api_url: str
    api_token_file: Path

    @property
    def openapi_url(self) -> str:
        return self.api_url + "/openapi.json"


@contextmanager
def running_service(
    store: EventStore,
    region_clients: RegionClientsFactory,
    *,
    data_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], float] = time.time,
    socket_factory: Callable[..., ChatSocket] = ChatSocket,
) -> Iterator[Running]:
    """Start it all (recovering the live conversations first), yield, and stop it all."""
    token_file = data_dir / API_TOKEN_FILE
    token = load_or_create_secret(token_file)
    secret = load_or_create_secret(data_dir / WEBHOOK_SECRET_FILE).encode()
    service = WorkerService(store, region_clients, clock=clock, socket_factory=socket_factory).start()
    deliverer = WebhookDeliverer(store, secret=secret)
    try:
        deliverer.start()
        server = ApiServer(create_app(service, token, delivery_routes(store)), host, port).start()
        try:
            yield Running(service, server.url, token_file.resolve())
        finally:
            server.stop()
    finally:
        deliverer.stop()
        service.stop()
