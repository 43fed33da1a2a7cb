"""A bot whose webhook holds its messages gets 429 with Retry-After for its new messages and transfers,
through the HTTP API, while another bot's go on; once delivered, the first bot's are accepted again."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.service.conftest import Bot, Running
from tests.service.harness import Api, wait_for

LIMIT = 1.0  # seconds: the held bot's oldest due message passes it; the other bot's never come near


class HeldWebhook:
    """A bot's webhook that takes each POST and answers it only once the test releases it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.released = threading.Event()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                webhook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                webhook.released.wait()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"


@pytest.fixture
def held_webhook() -> Iterator[HeldWebhook]:
    made = HeldWebhook()
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    yield made
    made.released.set()
    made.server.shutdown()
    made.server.server_close()


def post(api: Api, path: str, body: dict[str, Any]) -> tuple[int, Any, Message]:
    """Status, JSON body and headers (names in any case) of a POST as the api's client."""
    request = urllib.request.Request(api.url + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Authorization", f"Bearer {api.token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read()), answer.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def say(api: Api, conversation_id: str, message_id: str) -> tuple[int, Any, Message]:
    return post(api, f"/v1/conversations/{conversation_id}/messages", {"MessageId": message_id, "Text": message_id})


def test_a_bot_whose_webhook_holds_its_messages_is_refused_and_another_bot_is_not(
    start_service: Callable[..., Running], held_webhook: HeldWebhook, bot: Bot
) -> None:
    running = start_service(delivery_lag_limit=LIMIT)
    slow_api = running.api
    slow_id = next(client.id for client in running.clients.list() if client.name == "test-bot")
    other = running.clients.create("other-bot")
    other_api = Api(slow_api.url, other.token)

    assert slow_api.transfer("slow-1", running.worker_id, DeliverTo=held_webhook.url)[0] == 201
    assert other_api.transfer("other-1", running.worker_id, DeliverTo=bot.url)[0] == 201
    wait_for(lambda: held_webhook.received, "the held bot's first message at its webhook")
    wait_for(lambda: running.deliverer.lag(slow_id) > LIMIT, "the held bot's lag past the limit")

    status, answer, headers = say(slow_api, "slow-1", "m-1")
    assert (status, answer["Code"]) == (429, "delivery_behind")
    assert 1 <= int(headers.get("Retry-After")) <= 60
    status, answer, _ = post(slow_api, "/v1/conversations", {
        "ConversationId": "slow-2", "WorkerId": running.worker_id, "BotName": "Botty", "DeliverTo": held_webhook.url,
    })
    assert (status, answer["Code"]) == (429, "delivery_behind")
    assert slow_api.call("GET", "/v1/conversations/slow-2")[0] == 404  # refused, so nothing was taken

    wait_for(lambda: "AgentJoined" in bot.types(), "the other bot's AgentJoined")
    assert say(other_api, "other-1", "o-1")[0] == 202
    wait_for(lambda: "AgentMessage" in bot.types(), "the agent's answer at the other bot's webhook")
    assert other_api.transfer("other-2", running.worker_id, DeliverTo=bot.url)[0] == 201

    held_webhook.released.set()
    wait_for(lambda: running.deliverer.lag(slow_id) == 0.0, "the held bot's messages delivered")
    assert say(slow_api, "slow-1", "m-2")[0] == 202
    wait_for(lambda: any(m.get("Text") == "You said: m-2" for m in held_webhook.received), "the answer to m-2")
    assert not any(m.get("Text") == "You said: m-1" for m in held_webhook.received)  # m-1 was never accepted
