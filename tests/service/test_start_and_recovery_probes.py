"""A restart as `run.py serve` makes it: the API serves while the live conversations are recovered. Recovery
is held here on its read of r-9's log, the last of three (a store that waits for the test's word there),
and meanwhile a new transfer is accepted and connected, and a conversation recovery has read but not
resumed yet (r-2) is read, sent a message and ended through the API: its actor is started from its log
by the first call, once. When recovery then comes to r-2 with the state it read before the end, it
starts nothing more: no second actor, no second socket, no event after the end."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from commands.runtime import running_service
from connect_client import ChatSocket
from connect_local import Config, LocalConnect
from service import local_regions
from service.demo_worker import ensure_demo_worker
from store import EventStore
from store.records import StoredEvent
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.harness import Api, events_of, of_type, wait_for
from tests.support.probes import get
from tests.support.prometheus import scrape


class HeldStore(EventStore):
    """An event store whose first read of `held_stream` by the recovery thread waits for `go_on`."""

    held_stream = "conversation-r-9"

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.reached = threading.Event()
        self.go_on = threading.Event()

    def read_stream(self, stream: str, *, after_seq: int = 0, until_seq: int | None = None) -> list[StoredEvent]:
        if stream == self.held_stream and threading.current_thread().name == "recovery" and not self.reached.is_set():
            self.reached.set()
            assert self.go_on.wait(30), "the test never let recovery go on"
        return super().read_stream(stream, after_seq=after_seq, until_seq=until_seq)


def test_while_recovering_the_bots_are_served_and_a_conversation_not_yet_resumed_is_started_once(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect]
) -> None:
    connect = start_server(config_with())
    with EventStore.open(tmp_path / "events.db") as store:
        worker_id = ensure_demo_worker(WorkerRegistry(store), connect.ready_info())
        with running_service(store, local_regions(connect.endpoint_url)) as served:
            bot = served.clients.create("bot").token
            admin = served.clients.create("prometheus", admin=True).token
            for conversation_id in ("r-1", "r-2", "r-9"):
                assert Api(served.api_url, bot).transfer(conversation_id, worker_id)[0] == 201
                wait_for(lambda: of_type(events_of(store, conversation_id), "AgentJoined"), "Ana to join")
        before = {cid: len(events_of(store, cid)) for cid in ("r-1", "r-2", "r-9")}

    opened: Counter[str] = Counter()

    def counted_sockets(*args: Any, name: str, **kwargs: Any) -> ChatSocket:
        opened[name] += 1
        return ChatSocket(*args, name=name, **kwargs)

    with HeldStore.open(tmp_path / "events.db") as store:
        with running_service(store, local_regions(connect.endpoint_url), socket_factory=counted_sockets) as served:
            api = Api(served.api_url, bot)
            try:
                assert store.reached.wait(15), "recovery never read r-9"
                assert not served.service.recovered
                assert get(served.api_url + "/readyz")[0] == 200

                assert api.transfer("r-3", worker_id)[0] == 201
                wait_for(lambda: of_type(events_of(store, "r-3"), "AgentJoined"), "Ana to join r-3")

                status, body = api.call("GET", "/v1/conversations/r-2")
                assert (status, body["Phase"]) == (200, "connected")
                assert api.say("r-2", "m-1", "still there?")[0] == 202
                wait_for(lambda: of_type(events_of(store, "r-2"), "UserMessageSent"), "the message to reach Connect")
                assert api.call("POST", "/v1/conversations/r-2/leave", {})[0] == 202
                wait_for(lambda: of_type(events_of(store, "r-2"), "ReturnedToBot"), "r-2 to be handed back")
                ended = events_of(store, "r-2")
            finally:
                store.go_on.set()

            wait_for(lambda: served.service.recovered, "recovery to finish")
            for resumed in ("r-1", "r-9"):
                wait_for(lambda: of_type(events_of(store, resumed)[before[resumed]:], "ConnectionOpened"), "a reconnection")
            # Recovery started no actor for r-2 from the state it read before the end: none runs, and r-2's
            # one actor since the restart opened one socket (a second actor would run, or have opened one).
            assert served.service.supervisor_of("r-2").running_actor("r-2") is None
            assert opened["chat-socket-r-2"] == 1
            assert events_of(store, "r-2") == ended
            assert len(of_type(ended[before["r-2"]:], "ConnectionOpened")) == 1
            assert len(of_type(ended, "UserMessageSent")) == 1
            assert scrape(served.api_url, admin).value("connect_worker_conversations", phase="connected") == 3
