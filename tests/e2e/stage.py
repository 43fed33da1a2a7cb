"""Auto-disconnect the way users meet it: the service as an operator runs it (`run.py serve`, a child
process that can be SIGKILLed and started again on the same data folder) against a separate local
Amazon Connect (`run.py connect-local`), a worker made with `run.py worker create` from a file in the
seed's format, a bot (an API client) that speaks through the HTTP API and is told everything by signed
webhook, and a human agent the test plays through the local Connect's agent API.

The views a test compares: what the bot was told and when it arrived (the crash harness's
`WebhookReceiver`, `tests/crash/receiver.py`), what Connect holds
(`ConnectSide.record`: every item, with its time and client token), and the conversation's event log
(read-only, `logged`). The child processes and the `run.py` commands are those of the crash harness
(`tests/crash/children.py`, `tests/crash/service_process.py`).
"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from events import decode
from events.conversation_events import ConversationEvent
from store.conversations import conversation_stream
from tests.crash import service_process
from tests.crash.children import Child, Children, free_port, start_connect_local
from tests.crash.connect_side import FLOWS, INSTANCE, ConnectSide, connect_config
from tests.crash.receiver import WebhookReceiver
from tests.crash.service_process import BotMessage
from tests.service.harness import Api, wait_for

AGENT = "Hal"
# The seed's two AutoDisconnectEvents, word for word; only their seconds are the test's.
WARNING_USER = ("It has been a while since we heard from you. We will disconnect your chat after 20 seconds of "
                "inactivity")
WARNING_AGENT = ("It has been 10 sec since the last heard from the user. After 20 seconds of inactivity, the chat "
                 "will disconnect")
DISCONNECT_TEXT = "The session has been disconnected due to inactivity"  # the seed's UserMessage and AgentMessage
# How late a firing may be and still count as on time. The timer thread wakes within milliseconds of a
# due time and the agent's message reaches the service within tens of milliseconds (bench/timers.py);
# a second leaves room for a loaded 2-core machine. The mistakes these tests look for show more: a
# timer counted again from a restart is late by seconds, and one fired early or all at once on recovery
# breaks the lower bound, which has no tolerance (the service's clock is this machine's).
LATE = 1.0
DEADLINE = 30.0  # seconds to wait for anything that must happen


def worker_file(name: str, warning_seconds: int, disconnect_seconds: int) -> dict[str, Any]:
    """A worker in the seed's format whose queue has no simulated agent (the test is the agent), with the
    seed's WARNING and DISCONNECT at the given seconds after the agent's message."""
    return {
        "Data": {
            "ContactFlowId": FLOWS["human"],
            "InstanceId": INSTANCE,
            "Region": "us-east-1",
            "Secret": "srn:vault::e2e:aws-cross-account-role:local",
            "AutoDisconnectEvents": [
                {"Description": "Timer to send a message", "SecondsAfterAgentMessage": warning_seconds,
                 "Type": "WARNING", "UserMessage": WARNING_USER, "AgentMessage": WARNING_AGENT},
                {"Description": "Timer to disconnect", "SecondsAfterAgentMessage": disconnect_seconds,
                 "Type": "DISCONNECT", "UserMessage": DISCONNECT_TEXT, "AgentMessage": DISCONNECT_TEXT},
            ],
        },
        "Description": "tests/e2e: auto-disconnect",
        "Enabled": True,
        "Name": name,
        "Type": "amazon-connect-worker",
    }


def wait_until_past(moment: float, what: str) -> None:
    """Until the wall clock passes `moment` (`what` names it): that something does not happen by a
    given time can only be seen by letting the time pass."""
    wait_for(lambda: time.time() > moment, what, timeout=moment - time.time() + DEADLINE)


class Service:
    """`run.py serve` at a fixed API port (a bot's URL survives a restart), killed and started again on
    the same data folder."""

    def __init__(self, folder: Path, data: Path, connect: dict[str, Any], children: Children) -> None:
        self._folder = folder
        self._config = service_process.write_serve_config(folder, data, connect, free_port())
        self._children = children
        self._child: Child | None = None
        self._starts = 0
        self.api_url = ""
        self.started_at = 0.0  # wall clock when the last start began
        self.listening_at = 0.0  # wall clock when the last start was seen listening (its actors resuming)

    def start(self) -> None:
        ready_file = self._folder / f"serve.ready.{self._starts}.json"
        self._starts += 1
        self.started_at = time.time()
        self._child = self._children.start(
            Child("service", ["serve", "--config", str(self._config), "--ready-file", str(ready_file)],
                  self._folder / "service.log"))
        self.api_url = self._child.wait_ready(ready_file)["api_url"]
        self.listening_at = time.time()

    def kill(self) -> float:
        """SIGKILL; the wall clock just before it."""
        assert self._child is not None
        killed_at = time.time()
        self._child.kill()
        return killed_at


@dataclass
class Stage:
    """Everything started: the local Connect's side, the workers by name, the service, the bot's webhook
    and the bot's API client."""

    folder: Path
    data: Path
    connect: ConnectSide
    workers: dict[str, str]
    service: Service
    webhook: WebhookReceiver
    api: Api

    def transfer(self, conversation_id: str, worker: str) -> str:
        """The bot hands the conversation over (the customer is named after it); the agent accepts the
        chat and is seen to join; Connect's contact id."""
        status, answer = self.api.transfer(conversation_id, self.workers[worker], DeliverTo=self.webhook.url,
                                           User={"Name": conversation_id})
        assert status == 201, answer
        contact_id = self.connect.wait_for_contact(conversation_id, DEADLINE)
        self.connect.accept(contact_id, AGENT)
        wait_for(lambda: self.told_types(conversation_id).count("AgentJoined"), "the bot to be told the agent joined",
                 DEADLINE)
        return contact_id

    def agent_says(self, contact_id: str, text: str) -> float:
        """The agent writes in the chat; Connect's time of the message (its AbsoluteTime)."""
        message_id = self.connect.agent_says(contact_id, text)
        item = next(i for i in self.connect.record(contact_id)["Items"] if i["Id"] == message_id)
        return connect_time(item)

    def bot_says(self, conversation_id: str, message_id: str, text: str) -> None:
        status, answer = self.api.say(conversation_id, message_id, text)
        assert status == 202, answer

    def told_types(self, conversation_id: str) -> list[str]:
        return [told.type for told in self.webhook.once_each(conversation_id)]

    def handed_back(self, conversation_id: str) -> BotMessage:
        """The hand-back once the bot has it."""
        return wait_for(lambda: self._hand_back(conversation_id), f"the hand-back of {conversation_id}", DEADLINE)

    def settled(self, conversation_id: str) -> bool:
        """Whether the bot gets the hand-back within the deadline: for a fixture that gathers evidence
        whatever happens, so that each test says what is missing from it."""
        try:
            self.handed_back(conversation_id)
        except AssertionError:
            return False
        return True

    def _hand_back(self, conversation_id: str) -> BotMessage | None:
        return next((told for told in self.webhook.arrivals(conversation_id) if told.type == "ReturnedToBot"), None)

    def logged(self, conversation_id: str) -> list[ConversationEvent]:
        return logged(self.data, conversation_id)

    def agent_sees(self, contact_id: str) -> list[dict[str, Any]]:
        """The chat as the agent's page shows it (the agent API's transcript), in order."""
        url = f"{self.connect.ready['agent_api_url']}/chats/{contact_id}/transcript"
        with urllib.request.urlopen(url, timeout=30) as answer:
            return json.loads(answer.read())["Items"]


def logged(data: Path, conversation_id: str) -> list[ConversationEvent]:
    """The conversation's events as the service's log holds them now (read-only)."""
    with closing(sqlite3.connect(f"file:{data / 'events.db'}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT data FROM events WHERE stream = ? ORDER BY seq",
                          (conversation_stream(conversation_id),)).fetchall()
    return [decode(data) for data, in rows]


def of_type(events: list[ConversationEvent], name: str) -> list[Any]:
    return [event for event in events if type(event).__name__ == name]


def connect_time(item: dict[str, Any]) -> float:
    """An item's AbsoluteTime (milliseconds, cut, not rounded) as epoch seconds."""
    return datetime.fromisoformat(item["AbsoluteTime"]).timestamp()


@contextmanager
def staged(folder: Path, workers: dict[str, tuple[int, int]], chats: int = 10) -> Iterator[Stage]:
    """Start the local Connect, create each worker (name: WARNING and DISCONNECT seconds) and the bot's
    API client with `run.py`, start the service and the bot's webhook; on the way out end them all."""
    webhook = WebhookReceiver().start()
    try:
        with Children() as children:
            connect_child, connect = start_connect_local(folder, connect_config(chats))
            children.start(connect_child)
            data = folder / "data"
            worker_ids = {name: service_process.create_worker(worker_file(name, *seconds), folder, data)
                          for name, seconds in workers.items()}
            credentials = service_process.client_credentials(data, "e2e-bot")
            webhook.secret = credentials.signing_secret
            service = Service(folder, data, connect, children)
            service.start()
            yield Stage(folder, data, ConnectSide(connect), worker_ids, service, webhook,
                        Api(service.api_url, credentials.token))
    finally:
        webhook.stop()
