"""Short links end to end: links in an agent's message reach the user in the short form a shortening
API on loopback gives (POST {"url"} with x-api-key, answer {"shortUrl"}), and as written when it fails."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec
import pytest

from events.worker_config import ShortLinkConfig, SlashCommand, SlashCommandAction, SqueezeConfig
from store.content import ContentRegistry
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.conftest import Bot, Running
from tests.service.harness import wait_for
from tests.service.test_slash_commands import accepted_chat, agent_api, with_commands
from vault import LocalVault, SecretText, parse_reference

KEY_REF = "srn:vault::acme:secret:squeeze"
KEY = "sqz-key-SECRET"


class Shortener:
    """A shortening API on loopback: `/standard` gives https://sqz.test/<the link's last word>, but only
    to two requests in flight at once (a link asked for alone, after the other, waits in vain and is
    refused); `/broken` answers 500."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []
        self.together = threading.Barrier(2, timeout=1.5)
        shortener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                url = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["url"]
                shortener.asked.append((url, self.headers.get("x-api-key")))
                if self.path == "/broken":
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    shortener.together.wait()
                except threading.BrokenBarrierError:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps({"shortUrl": f"https://sqz.test/{url.rstrip('/').rsplit('/', 1)[-1]}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def shortener() -> Iterator[Shortener]:
    made = Shortener()
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()


def shortening(running: Running, api: str) -> None:
    """The worker's links shortened by `api`, with the key in the local vault, as `run.py secret put` leaves it."""
    LocalVault(running.store.path).put(parse_reference(KEY_REF), SecretText(KEY))
    workers = WorkerRegistry(running.store)
    config = workers.get(running.worker_id)
    short = ShortLinkConfig(config=SqueezeConfig(api=api, api_key=KEY_REF), type="Squeeze")
    data = msgspec.structs.replace(config.data, short_link_config=short)
    workers.update(running.worker_id, msgspec.structs.replace(config, data=data), at=time.time())


def agent_messages(bot: Bot) -> list[dict]:
    return [m for m in bot.received if m["Type"] == "AgentMessage"]


def test_a_messages_links_are_asked_for_at_once_and_reach_the_user_short_with_the_original_kept(
    start_service: Callable[..., Running], bot: Bot, shortener: Shortener
) -> None:
    running = start_service(config_with(agents=[]))
    shortening(running, f"{shortener.url}/standard")
    contact_id = accepted_chat(running, bot, "short-1")
    written = "Track it at https://shop.example/orders/42?utm=chat. Terms: https://shop.example/terms"
    agent_api(running, "POST", f"{contact_id}/messages", {"Content": written})
    [message] = wait_for(lambda: agent_messages(bot), "the agent's message at the bot")
    assert message["Text"] == "Track it at https://sqz.test/42?utm=chat. Terms: https://sqz.test/terms"
    assert message["OriginalText"] == written
    assert sorted(shortener.asked) == [("https://shop.example/orders/42?utm=chat", KEY), ("https://shop.example/terms", KEY)]


def test_a_failing_shortener_lets_the_links_through_as_written(
    start_service: Callable[..., Running], bot: Bot, shortener: Shortener
) -> None:
    running = start_service(config_with(agents=[]))
    shortening(running, f"{shortener.url}/broken")
    contact_id = accepted_chat(running, bot, "short-2")
    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "See https://shop.example/a"})
    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "and no link here"})
    messages = wait_for(lambda: m if len(m := agent_messages(bot)) == 2 else None, "both messages at the bot")
    assert [m["Text"] for m in messages] == ["See https://shop.example/a", "and no link here"]
    assert "OriginalText" not in messages[0]
    assert len(shortener.asked) == 1


def test_a_content_items_links_are_shortened_once_its_placeholders_are_filled(
    start_service: Callable[..., Running], bot: Bot, shortener: Shortener
) -> None:
    running = start_service(config_with(agents=[]))
    shortening(running, f"{shortener.url}/standard")
    with_commands(running, {"/track": SlashCommand(actions=[SlashCommandAction(type="content", value="tracking")])})
    item = "Hi {{name}}, track it at https://shop.example/track/{{name}} (terms: https://shop.example/terms)"
    ContentRegistry(running.store).put(running.worker_id, "tracking", item, at=time.time())
    contact_id = accepted_chat(running, bot, "short-3")

    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "/track"})

    [message] = wait_for(lambda: agent_messages(bot), "the content item at the bot")
    assert message["SlashCommand"] == "/track"
    assert message["Text"] == "Hi Maya, track it at https://sqz.test/Maya (terms: https://sqz.test/terms)"
    assert message["OriginalText"] == "Hi Maya, track it at https://shop.example/track/Maya (terms: https://shop.example/terms)"
    assert sorted(shortener.asked) == [("https://shop.example/terms", KEY), ("https://shop.example/track/Maya", KEY)]
