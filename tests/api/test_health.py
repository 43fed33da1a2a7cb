"""GET /healthz and /readyz, without a token, and GET /metrics, with an admin client's: served by the app
over a real store, its readiness the running service's (a write to the store's file; recovery does not hold it back)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api import ApiServer, create_app
from delivery import delivery_routes
from service import WorkerService
from events import encode, event_type
from service.readiness import Readiness
from store import EventStore, NewEvent
from store.conversations import conversation_stream
from store.clients import ClientRegistry, NewClient
from store.write_probe import WriteProbe
from tests.api.conftest import regions_never_asked
from tests.events.scenario import Run
from tests.service.harness import wait_for
from tests.support.probes import get


@dataclass
class Probed:
    store: EventStore
    service: WorkerService
    url: str
    bot: NewClient
    admin: NewClient


@pytest.fixture
def probed(tmp_path: Path) -> Iterator[Probed]:
    """The app with the service's readiness, probing the store at every ask; the service not started yet."""
    with EventStore.open(tmp_path / "events.db") as store, ClientRegistry(store.path) as clients:
        service = WorkerService(store, regions_never_asked)
        readiness = Readiness(service, WriteProbe(store.path, busy_timeout=0.05), interval=0)
        server = ApiServer(create_app(service, clients, delivery_routes(store), readiness=readiness)).start()
        try:
            yield Probed(store, service, server.url, clients.create("bot"), clients.create("ops", admin=True))
        finally:
            server.stop()
            if service.recovered or service.recovery_failed:  # started
                service.stop()
            readiness.close()


def test_before_recovery_is_done_the_process_is_up_ready_and_the_bots_are_served(probed: Probed) -> None:
    assert get(probed.url + "/healthz")[::2] == (200, b'{"Status":"ok"}')
    assert not probed.service.recovered

    assert get(probed.url + "/readyz")[::2] == (200, b'{"Status":"ready"}')
    assert get(probed.url + "/v1/conversations", probed.bot.token)[0] == 200
    assert get(probed.url + "/v1/conversations")[0] == 401  # the token is still asked
    assert get(probed.url + "/metrics", probed.admin.token)[0] == 200


def test_once_recovered_it_is_ready_and_the_bots_are_served(probed: Probed) -> None:
    assert probed.service.start().wait_recovered(10)

    assert get(probed.url + "/readyz")[::2] == (200, b'{"Status":"ready"}')
    assert get(probed.url + "/v1/conversations", probed.bot.token)[0] == 200


def test_a_store_that_cannot_be_written_is_not_ready_until_it_can(probed: Probed) -> None:
    assert probed.service.start().wait_recovered(10)
    holder = sqlite3.connect(probed.store.path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process keeps the write lock
        status, _, body = get(probed.url + "/readyz")
        assert (status, json.loads(body)) == (
            503, {"Code": "not_ready", "Message": "the event store cannot be written: database is locked"}
        )
        assert get(probed.url + "/healthz")[0] == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert get(probed.url + "/readyz")[0] == 200


def test_a_recovery_that_failed_is_not_ready(probed: Probed) -> None:
    run = Run("c-live").connected().with_agent()
    probed.store.append(
        conversation_stream("c-live"), [NewEvent(event_type(e), encode(e)) for e in run.events], expected_version=0
    )
    probed.service.start()  # its regions' clients refuse to be made: recovery fails at the first conversation

    wait_for(lambda: probed.service.recovery_failed, "recovery to fail")
    status, _, body = get(probed.url + "/readyz")
    assert (status, json.loads(body)["Message"]) == (503, "recovering the live conversations failed")


def test_a_store_whose_writer_stopped_is_not_ready(probed: Probed) -> None:
    assert probed.service.start().wait_recovered(10)
    probed.store.close()

    status, _, body = get(probed.url + "/readyz")

    assert (status, json.loads(body)["Message"]) == (503, "the event store's writer has stopped")


def test_the_metrics_are_an_admin_clients(probed: Probed) -> None:
    status, _, body = get(probed.url + "/metrics", probed.bot.token)
    assert (status, json.loads(body)["Code"]) == (403, "admin_only")
    assert get(probed.url + "/metrics")[0] == 401

    status, headers, body = get(probed.url + "/metrics", probed.admin.token)
    assert status == 200 and headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert b'connect_worker_conversations{phase="connected"} 0.0' in body
