"""SIGKILL the service mid-chat and start it again on the same data folder:
the conversation resumes, and neither Connect nor the event log holds a message twice or misses one."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

from connect_local import Config, LocalConnect
from service.demo_worker import ensure_demo_worker
from store import EventStore
from store.clients import ClientRegistry
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.harness import Api, events_of, of_type, wait_for


def test_sigkill_mid_chat_then_restart_loses_and_doubles_nothing(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect], serve: Callable
) -> None:
    connect = start_server(config_with())
    data = tmp_path / "data"
    data.mkdir()
    with EventStore.open(data / "events.db") as store, ClientRegistry(store.path) as clients:
        worker_id = ensure_demo_worker(WorkerRegistry(store), connect.ready_info())
        token = clients.create("crash-bot").token
    config = tmp_path / "serve.json"
    config.write_text(json.dumps({
        "data_dir": str(data),
        "api_port": 0,
        "regions": {"us-east-1": {"endpoint_url": connect.endpoint_url, "static_credentials": True}},
    }))
    texts = [f"message {n}" for n in range(6)]

    first, info = serve(config)
    api = Api(info["api_url"], token)
    with EventStore.open(data / "events.db") as store:
        assert api.transfer("crash-1", worker_id)[0] == 201
        wait_for(lambda: of_type(events_of(store, "crash-1"), "AgentJoined"), "Ana to join")
        for n in range(3):
            assert api.say("crash-1", f"m-{n}", texts[n])[0] == 202
        wait_for(lambda: len(of_type(events_of(store, "crash-1"), "AgentMessageReceived")) >= 2, "replies before the kill")
        assert api.say("crash-1", "m-3", texts[3])[0] == 202
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)

        _, info = serve(config)
        api = Api(info["api_url"], api.token)
        for n in (4, 5):
            assert api.say("crash-1", f"m-{n}", texts[n])[0] == 202
        assert api.say("crash-1", "m-3", texts[3])[0] == 202  # the bot retries: accepted once

        def replies() -> list[str]:
            return [e.content for e in of_type(events_of(store, "crash-1"), "AgentMessageReceived")]

        wait_for(lambda: len(replies()) >= len(texts), "every reply after the restart")
        assert sorted(replies()) == sorted(f"You said: {text}" for text in texts)
        requested = of_type(events_of(store, "crash-1"), "UserMessageRequested")
        assert [r.text for r in requested] == texts
        contact_id = of_type(events_of(store, "crash-1"), "ChatStarted")[0].contact_id

    record = connect.contact_record(contact_id)
    sent = [i for i in record["Items"] if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "CUSTOMER"]
    assert [(i["Content"], i["ClientToken"]) for i in sent] == [(r.text, r.client_token) for r in requested]
    agent = [i["Content"] for i in record["Items"] if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "AGENT"]
    assert sorted(agent) == sorted(f"You said: {text}" for text in texts)
