"""Making a region's clients (about half a second each) does not hold the service's lock: recovery and
the bots' calls for other regions go on meanwhile. Held, the crash harness saw recovery stall for whole
service lives behind a bot's call that was making clients."""

from __future__ import annotations

import threading
from pathlib import Path

from connect_client import RegionClients, static_session
from events import encode, event_type
from service import WorkerService
from store import EventStore, NewEvent
from store.conversations import conversation_stream
from tests.events.scenario import Run


def test_the_service_answers_while_a_regions_clients_are_being_made(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "events.db") as store:
        run = Run("c-live").connected().with_agent()
        store.append(conversation_stream("c-live"), [NewEvent(event_type(e), encode(e)) for e in run.events], expected_version=0)
        answered = threading.Event()

        def region_clients(region: str, secret: str | None) -> RegionClients:
            # Recovery is making this region's clients: another caller asks the service meanwhile.
            threading.Thread(target=lambda: (service.supervisors(), answered.set()), daemon=True).start()
            assert answered.wait(15), "the service's lock was held while a region's clients were made"
            return RegionClients.create(region, endpoint_url="http://127.0.0.1:9", session=static_session())

        service = WorkerService(store, region_clients)
        try:
            assert service.start().wait_recovered(30)
        finally:
            service.stop()
    assert answered.is_set()
