"""The bot's webhook hears the agent and the hand-back of a conversation transferred with DeliverTo."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.service.conftest import Running
from tests.service.harness import wait_for


class Bot:
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


def test_the_webhook_hears_the_agent_and_the_hand_back_once_each(running: Running, bot: Bot) -> None:
    assert running.api.transfer("w-1", running.worker_id, DeliverTo=bot.url)[0] == 201
    wait_for(lambda: "AgentJoined" in bot.types(), "AgentJoined at the webhook")
    running.api.say("w-1", "m-1", "hello")
    wait_for(lambda: "AgentMessage" in bot.types(), "the agent's message at the webhook")
    running.api.call("POST", "/v1/conversations/w-1/leave")
    wait_for(lambda: "ReturnedToBot" in bot.types(), "the hand-back at the webhook")
    by_type = {message["Type"]: message for message in bot.received}
    assert by_type["AgentMessage"]["Text"] == "You said: hello"
    assert by_type["ReturnedToBot"]["Context"]["SessionEndReason"] == "UserLeft"
    ids = [message["Id"] for message in bot.received]
    assert len(ids) == len(set(ids))
