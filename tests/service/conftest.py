"""The worker service on loopback, wired as `run.py` wires it: a local Amazon Connect, a store in a
temporary folder, the API (and the webhook deliverer and pull stream) on a free port; and a bot's
webhook to deliver to."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from connect_client import ChatSocket, ClientSettings, RegionClients, RegionHealth, static_session
from connect_local import Config, LocalConnect
from delivery import WebhookDeliverer
from delivery.backpressure import DEFAULT_LAG_LIMIT_SECONDS
from service import RegionClientsFactory, WorkerService, local_regions
from service.auto_failover import AutoFailover
from service.connector_runner import ConnectorRunner
from service.demo_worker import ensure_demo_worker
from commands.runtime import running_service
from store import EventStore
from store.clients import ClientRegistry
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.harness import Api
from tests.support.processes import start_run_py, wait_for_ready_file


@dataclass
class Running:
    connect: LocalConnect
    store: EventStore
    service: WorkerService
    clients: ClientRegistry
    api: Api  # as the client "test-bot"
    worker_id: str
    deliverer: WebhookDeliverer


def regions_on(
    clock: Callable[[], float], settings: ClientSettings
) -> Callable[[LocalConnect, EventStore], RegionClientsFactory]:
    """`start_service`'s `regions`: the local Connect's, dummy keys, each region's health on `clock`, its
    calls made as `settings` say (one attempt each, so that an injected fault is counted at once)."""

    def regions(connect: LocalConnect, store: EventStore) -> RegionClientsFactory:
        return lambda region, secret: RegionClients.create(
            region, endpoint_url=connect.endpoint_url, session=static_session(), settings=settings,
            health=RegionHealth(clock=clock),
        )

    return regions


@pytest.fixture
def start_service(tmp_path: Path, start_server: Callable[[Config], LocalConnect]) -> Iterator[Callable[..., Running]]:
    with ExitStack() as stack:

        def start(
            config: Config | None = None,
            clock: Callable[[], float] = time.time,
            socket_factory: Callable[..., ChatSocket] = ChatSocket,
            connector_endpoints: Callable[[LocalConnect], dict[str, str]] = lambda connect: {},
            regions: Callable[[LocalConnect, EventStore], RegionClientsFactory] | None = None,
            auto_failover: AutoFailover | None = None,
            delivery_lag_limit: float = DEFAULT_LAG_LIMIT_SECONDS,
        ) -> Running:
            """`connector_endpoints`: where connectors' calls go by service (Translate, SES), else AWS's
            (moto's, under `mock_aws`); they sign with dummy keys. `regions`: how each (region, secret)'s
            clients are made, given the local Connect and the store (default: the local Connect, dummy
            keys, no role assumed). `auto_failover`: on as given, checked every 20 ms (default off).
            `delivery_lag_limit`: past it, a bot's messages and transfers are refused with 429."""
            connect = start_server(config or config_with())
            store = stack.enter_context(EventStore.open(tmp_path / "events.db"))
            worker_id = ensure_demo_worker(WorkerRegistry(store), connect.ready_info())
            connectors = ConnectorRunner(
                store, credentials=lambda reference: static_session(), endpoints=connector_endpoints(connect)
            )
            served = stack.enter_context(
                running_service(
                    store,
                    regions(connect, store) if regions else local_regions(connect.endpoint_url),
                    clock=clock,
                    socket_factory=socket_factory,
                    run_connector=connectors,
                    auto_failover=auto_failover,
                    auto_failover_poll=0.02,
                    delivery_lag_limit=delivery_lag_limit,
                )
            )
            token = served.clients.create("test-bot").token
            return Running(
                connect, store, served.service, served.clients, Api(served.api_url, token), worker_id, served.deliverer
            )

        yield start


@pytest.fixture
def running(start_service: Callable[..., Running]) -> Running:
    return start_service()


class Bot:
    """A bot's webhook on loopback: keeps every message delivered to it, as it arrives."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                bot.received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"

    def types(self) -> list[str]:
        return [message["Type"] for message in self.received]


@pytest.fixture
def bot() -> Iterator[Bot]:
    made = Bot()
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Path], tuple[subprocess.Popen[str], dict]]]:
    """`run.py serve --config CONFIG` in a process of its own, as many as a test starts: each call gives
    the process and its ready file. Left running at the end, each is stopped with SIGTERM, and killed if
    it has not exited 30 s later."""
    children: list[subprocess.Popen[str]] = []

    def start(config: Path) -> tuple[subprocess.Popen[str], dict]:
        ready = tmp_path / f"ready-{len(children)}.json"
        child = start_run_py("serve", "--config", str(config), "--ready-file", str(ready))
        children.append(child)
        return child, wait_for_ready_file(ready, child)

    yield start
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        try:
            child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
