"""Making a region's clients (about half a second each) does not hold the service's lock: recovery and
the bots' calls for other regions go on meanwhile. Held, the crash harness saw recovery stall for whole
service lives behind a bot's call that was making clients."""

from __future__ import annotations

import threading
from contextlib import suppress
from pathlib import Path

from connect_client import RegionClients, static_session
from events import encode, event_type
from events.commands import UserMessageAcknowledged
from events.rejection import Rejected
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


def test_a_burst_of_first_calls_for_one_region_makes_its_clients_once(tmp_path: Path) -> None:
    """boto3 clients are heavy: eight conversations of one region asked at once, before it has a
    supervisor, wait for the one caller making the region's clients instead of each making their own."""
    ids = [f"c-{n}" for n in range(8)]
    with EventStore.open(tmp_path / "events.db") as store:
        for conversation_id in ids:
            run = Run(conversation_id).connected().with_agent()
            events = [NewEvent(event_type(e), encode(e)) for e in run.events]
            store.append(conversation_stream(conversation_id), events, expected_version=0)
        asking = threading.Barrier(len(ids) + 1)
        made: list[str] = []
        another_maker = threading.Event()

        def region_clients(region: str, secret: str | None) -> RegionClients:
            made.append(region)
            if len(made) > 1:
                another_maker.set()
            another_maker.wait(0.5)  # the other callers are all asking by now: give them the chance to make their own
            return RegionClients.create(region, endpoint_url="http://127.0.0.1:9", session=static_session())

        service = WorkerService(store, region_clients)

        def ask(conversation_id: str) -> None:
            asking.wait(10)
            with suppress(Rejected):
                service.handle(conversation_id, UserMessageAcknowledged(at=3.0, effect_id=999, connect_message_id="x"))

        callers = [threading.Thread(target=ask, args=(conversation_id,), daemon=True) for conversation_id in ids]
        try:
            for caller in callers:
                caller.start()
            asking.wait(10)
            for caller in callers:
                caller.join(30)
            assert len(service.supervisors()) == 1
        finally:
            for supervisor in service.supervisors():  # the service itself was never started
                supervisor.stop()
    assert made == ["us-east-1"]
