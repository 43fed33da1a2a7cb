"""The worker service on loopback: a local Amazon Connect, a store in a temporary folder, the API on a free port."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api import ApiServer, create_app
from connect_local import Config, LocalConnect
from service import WorkerService, local_regions
from service.demo_worker import ensure_demo_worker
from store import EventStore
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.harness import Api


@dataclass
class Running:
    connect: LocalConnect
    store: EventStore
    service: WorkerService
    api: Api
    worker_id: str


@pytest.fixture
def start_service(tmp_path: Path, start_server: Callable[[Config], LocalConnect]) -> Iterator[Callable[..., Running]]:
    stops: list[Callable[[], None]] = []

    def start(config: Config | None = None, clock: Callable[[], float] = time.time) -> Running:
        connect = start_server(config or config_with())
        store = EventStore.open(tmp_path / "events.db")
        stops.append(store.close)
        worker_id = ensure_demo_worker(WorkerRegistry(store), connect.ready_info())
        service = WorkerService(store, local_regions(connect.endpoint_url), clock=clock).start()
        stops.append(service.stop)
        server = ApiServer(create_app(service, "test-token")).start()
        stops.append(server.stop)
        return Running(connect, store, service, Api(server.url, "test-token"), worker_id)

    yield start
    for stop in reversed(stops):
        stop()


@pytest.fixture
def running(start_service: Callable[..., Running]) -> Running:
    return start_service()
