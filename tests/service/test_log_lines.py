"""The service's log lines in a running service: each line a conversation's actor logs carries the
conversation and its worker, none a token; recovery and failover orders show their progress."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import logs
from events import encode, event_type
from connect_local import LocalConnect
from service import WorkerService, local_regions
from service.failover_orders import FailoverOrders
from store import EventStore, NewEvent
from store.conversations import conversation_stream
from store.workers import WorkerRegistry
from tests.events.scenario import Run, transfer, worker_config
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for


@pytest.fixture
def json_logs() -> Iterator[None]:
    logs.configure(logging.INFO, "json")
    yield


@pytest.fixture
def progress_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """A progress line at every step, as a long operation logs one every few seconds."""
    monkeypatch.setattr("logs.progress.EVERY_SECONDS", 0.0)


def lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines()]


def test_a_line_logged_while_an_actor_handles_its_conversation_names_it_and_its_worker(
    running: Running, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    running.api.transfer("c-logged", running.worker_id)
    wait_for(lambda: of_type(events_of(running.store, "c-logged"), "AgentJoined"), "Ana to join")
    contact_id = running.service.state("c-logged").chat.contact_id
    connections = len(of_type(events_of(running.store, "c-logged"), "ConnectionOpened"))
    assert running.connect.drop_sockets(contact_id) == 1
    wait_for(lambda: len(of_type(events_of(running.store, "c-logged"), "ConnectionOpened")) > connections, "the new socket")

    err = capsys.readouterr().err
    [retry, *_] = [line for line in lines(err) if "chat socket retry" in line["message"]]
    assert (retry["conversation_id"], retry["worker_id"]) == ("c-logged", running.worker_id)
    assert retry["logger"] == "actors.conversation" and retry["level"] == "WARNING"
    events = events_of(running.store, "c-logged")
    tokens = [e.participant_token for e in of_type(events, "ChatStarted")] + [
        e.connection_token for e in of_type(events, "ConnectionOpened") if e.connection_token
    ]
    assert len(tokens) >= 3 and not any(token in err for token in tokens)


def stored_transfers(store: EventStore, count: int) -> None:
    for n in range(count):
        conversation = Run(f"c-{n}")
        conversation(transfer(time.time()))
        store.append(
            conversation_stream(f"c-{n}"),
            [NewEvent(event_type(event), encode(event)) for event in conversation.events],
            expected_version=0,
        )


def test_recovery_shows_how_far_it_is(
    tmp_path: Path, server: LocalConnect, progress_every_step: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.worker_service")
    with EventStore.open(tmp_path / "events.db") as store:
        stored_transfers(store, 3)
        service = WorkerService(store, local_regions(server.endpoint_url)).start()  # start recovers
        assert service.wait_recovered(30)
        service.stop()
    said = [r.getMessage() for r in caplog.records if r.name == "service.worker_service"]
    assert said == [
        "reading live conversations: 1 of 3 conversations (33%)",
        "reading live conversations: 2 of 3 conversations (66%)",
        "reading live conversations: 3 of 3 conversations (100%)",
        "starting recovered conversations: 1 of 3 conversations (33%)",
        "starting recovered conversations: 2 of 3 conversations (66%)",
        "starting recovered conversations: 3 of 3 conversations (100%)",
        "recovered 3 live conversations",
    ]


def test_a_failover_order_shows_how_far_it_is_and_each_conversations_lines_name_it(
    tmp_path: Path, progress_every_step: None, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def take(conversation_id: str, worker: object) -> None:
        logging.getLogger("service.worker_service").warning("taking the order")

    with EventStore.open(tmp_path / "events.db") as store:
        workers = WorkerRegistry(store)
        worker_id = workers.create(worker_config(), at=1.0)
        workers.failover(worker_id, to="us-west-2-oregon", mode="move", at=2.0)
        orders = FailoverOrders(
            store, conversations_of=lambda worker: ["c-1", "c-2"], take_order=take
        )
        assert orders.carry_out(worker_id)
    said = lines(capsys.readouterr().err)
    messages = [line["message"] for line in said]
    assert messages[0] == f"worker {worker_id}: carrying out failover order 2 (move) for 2 live conversations"
    assert f"worker {worker_id}: failover order 2: 2 of 2 conversations (100%)" in messages
    taking = [line for line in said if line["message"] == "taking the order"]
    assert sorted(line["conversation_id"] for line in taking) == ["c-1", "c-2"]
    assert {line["worker_id"] for line in taking} == {worker_id}
