from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from api import create_app
from delivery import delivery_routes, is_for_the_bot
from net.server_thread import ServerThread
from service import WorkerService
from store import EventStore
from store.clients import ClientRegistry
from store.conversations import conversation_stream
from tests.api.conftest import regions_never_asked
from tests.delivery.conversations import append, chat, hand_back, started
from tests.events.scenario import TOKEN

@dataclass(frozen=True)
class PullApi:
    host: str
    port: int
    authorization: dict[str, str]


@pytest.fixture
def api(store: EventStore) -> Iterator[PullApi]:
    """The pull routes as the bots' API serves them (its token, its scope, its error shape), by uvicorn on a
    free loopback port, for an admin client: these conversations are transferred by no client."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    with ClientRegistry(store.path) as clients:
        authorization = {"Authorization": f"Bearer {clients.create('ops', admin=True).token}"}
        app = create_app(WorkerService(store, regions_never_asked), clients, delivery_routes(store))
        served = ServerThread(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1),
                              "pull-api", sockets=[listener])
        served.start(timeout=10)
        yield PullApi(*listener.getsockname(), authorization)
        served.stop(timeout=10)


def get(api: PullApi, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(api.host, api.port, timeout=40)
    try:
        connection.request("GET", path, headers={**api.authorization, **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def bot_ids(store: EventStore, conversation_id: str, after: int = 0) -> list[str]:
    stream = conversation_stream(conversation_id)
    return [f"{conversation_id}:{s.seq}" for s in store.read_stream(stream, after_seq=after) if is_for_the_bot(s)]


def test_long_poll_returns_what_is_there_at_once_and_next_resumes_after_it(store: EventStore, api: PullApi) -> None:
    append(store, "c1", chat(started("c1", ""), agent_messages=2).events)

    status, page = get(api, "/v1/conversations/c1/events?after=0&wait=30")

    assert status == 200
    assert [m["Id"] for m in page["Events"]] == bot_ids(store, "c1")
    assert page["Next"] == store.stream_version(conversation_stream("c1"))
    assert page["Ended"] is False
    assert TOKEN not in json.dumps(page)
    assert get(api, f"/v1/conversations/c1/events?after={page['Next']}") == (200, {"Events": [], "Next": page["Next"], "Ended": False})


def test_long_poll_waits_for_the_next_bot_message(store: EventStore, api: PullApi) -> None:
    run = started("c2", "")
    append(store, "c2", run.events)
    after = len(run.events)
    answers: list[tuple[int, Any]] = []
    poll = threading.Thread(target=lambda: answers.append(get(api, f"/v1/conversations/c2/events?after={after}&wait=30")))
    poll.start()

    append(store, "c2", run.agent_says("are you there?", at=5.0))
    poll.join()

    status, page = answers[0]
    assert status == 200
    assert [(m["Type"], m["Text"]) for m in page["Events"]] == [("AgentMessage", "are you there?")]


def test_long_poll_without_news_answers_empty_when_the_wait_is_over(store: EventStore, api: PullApi) -> None:
    append(store, "c3", started("c3", "").events)

    assert get(api, "/v1/conversations/c3/events?after=4&wait=0.05") == (200, {"Events": [], "Next": 4, "Ended": False})


def test_after_the_hand_back_a_poll_answers_at_once_that_the_conversation_ended(store: EventStore, api: PullApi) -> None:
    append(store, "c4", hand_back(chat(started("c4", ""), agent_messages=1)).events)
    last = store.stream_version(conversation_stream("c4"))

    status, page = get(api, "/v1/conversations/c4/events?after=0")
    assert status == 200
    assert page["Events"][-1]["Type"] == "ReturnedToBot"
    assert page["Events"][-1]["Context"]["SessionEndReason"] == "AgentLeft"
    assert page["Ended"] is True
    assert get(api, f"/v1/conversations/c4/events?after={last}&wait=30") == (200, {"Events": [], "Next": last, "Ended": True})


def test_unknown_conversation_is_404_and_bad_parameters_are_400_naming_them(store: EventStore, api: PullApi) -> None:
    append(store, "c5", started("c5", "").events)

    assert get(api, "/v1/conversations/nobody/events") == (
        404,
        {"Code": "unknown_conversation", "Message": "no conversation with id 'nobody'"},
    )
    status, body = get(api, "/v1/conversations/c5/events?after=-1")
    assert (status, body["Code"], body["Message"].split(":")[0]) == (400, "invalid_query", "after")
    status, body = get(api, "/v1/conversations/c5/events?wait=31")
    assert (status, body["Code"], body["Message"].split(":")[0]) == (400, "invalid_query", "wait")
    status, body = get(api, "/v1/conversations/c5/events", {"Accept": "text/event-stream", "Last-Event-ID": "other:3"})
    assert (status, body["Code"], body["Message"].split(":")[0]) == (400, "invalid_query", "Last-Event-ID")


class EventStream:
    """A server-sent event stream read frame by frame."""

    def __init__(self, api: PullApi, path: str, last_event_id: str | None = None) -> None:
        self._connection = http.client.HTTPConnection(api.host, api.port, timeout=20)
        headers = {**api.authorization, "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self._connection.request("GET", path, headers=headers)
        self.response = self._connection.getresponse()

    def frames(self) -> Iterator[dict[str, str]]:
        frame: dict[str, str] = {}
        for raw in self.response:
            line = raw.decode().rstrip("\n")
            if not line:
                if "id" in frame:
                    yield frame
                frame = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                frame[name] = value

    def close(self) -> None:
        self._connection.close()


def test_event_stream_sends_messages_as_they_are_appended_until_the_hand_back(store: EventStore, api: PullApi) -> None:
    run = chat(started("s1", ""), agent_messages=1)
    append(store, "s1", run.events)
    stream = EventStream(api, "/v1/conversations/s1/events")
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        frames = stream.frames()
        existing = [next(frames)["id"] for _ in bot_ids(store, "s1")]
        assert existing == bot_ids(store, "s1")

        append(store, "s1", run.agent_says("live one", at=50.0))
        live = next(frames)
        assert (live["event"], json.loads(live["data"])["Text"]) == ("AgentMessage", "live one")

        already = len(run.events)
        append(store, "s1", hand_back(run).events[already:])
        rest = list(frames)
        assert [f["event"] for f in rest] == ["AgentLeft", "ReturnedToBot"]
        assert all(json.loads(f["data"])["Id"] == f["id"] for f in [live, *rest])
    finally:
        stream.close()


def test_event_stream_resumes_after_last_event_id(store: EventStore, api: PullApi) -> None:
    append(store, "s2", hand_back(chat(started("s2", ""), agent_messages=4)).events)
    all_ids = bot_ids(store, "s2")
    resume_from = all_ids[3]

    stream = EventStream(api, "/v1/conversations/s2/events", last_event_id=resume_from)
    try:
        frames = list(stream.frames())
    finally:
        stream.close()

    assert [frame["id"] for frame in frames] == all_ids[4:]
    assert TOKEN not in "".join(frame["data"] for frame in frames)
