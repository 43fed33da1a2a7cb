"""A restart as `run.py serve` makes it: the API answers while the live conversations are recovered
(/healthz up, /readyz and the bots' routes 503 not_ready), then everything is ready and the recovered
conversation shows in the metrics by its phase. (Recovery is held here in making the region's clients,
under the service's lock, which a scrape's region figures wait for too: tests/api/test_health.py shows
/metrics served while recovering.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from commands.runtime import running_service
from connect_client import RegionClients
from connect_local import Config, LocalConnect
from service import local_regions
from service.demo_worker import ensure_demo_worker
from store import EventStore
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.crash.children import free_port
from tests.service.harness import Api, events_of, of_type, wait_for
from tests.support.probes import get
from tests.support.prometheus import scrape


def test_while_recovering_the_probes_answer_and_the_bots_wait_then_all_is_ready(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect]
) -> None:
    connect = start_server(config_with())
    with EventStore.open(tmp_path / "events.db") as store:
        worker_id = ensure_demo_worker(WorkerRegistry(store), connect.ready_info())
        with running_service(store, local_regions(connect.endpoint_url)) as served:
            bot = served.clients.create("bot").token
            admin = served.clients.create("prometheus", admin=True).token
            assert Api(served.api_url, bot).transfer("r-1", worker_id)[0] == 201
            wait_for(lambda: of_type(events_of(store, "r-1"), "AgentJoined"), "Ana to join")

        # Recovery makes the region's clients for the live conversation: they wait for the test's word.
        go_on = threading.Event()

        def held_regions(region: str, secret: str | None) -> RegionClients:
            assert go_on.wait(15), "the test never let recovery go on"
            return local_regions(connect.endpoint_url)(region, secret)

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        stop = threading.Event()
        ready = threading.Event()

        def serve() -> None:
            with running_service(store, held_regions, port=port):
                ready.set()
                stop.wait(30)

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        try:
            wait_for(lambda: _answers(url + "/healthz") == 200, "the API to answer while recovering")
            status, _, body = get(url + "/readyz")
            assert (status, json.loads(body)["Message"]) == (503, "recovering the live conversations")
            assert get(url + "/v1/conversations/r-1", bot)[0] == 503
            assert not ready.is_set()

            go_on.set()
            assert ready.wait(15)
            assert get(url + "/readyz")[0] == 200
            assert get(url + "/v1/conversations/r-1", bot)[0] == 200
            assert scrape(url, admin).value("connect_worker_conversations", phase="connected") == 1
        finally:
            go_on.set()
            stop.set()
            server.join(timeout=30)
        assert not server.is_alive()


def _answers(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None  # not listening yet
