"""The chat model on its own: no HTTP, no event loop, an injected clock."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from connect_local import load_config
from connect_local.model import ChatModel, Contact, Item, StartChat
from tests.connect_local.configs import config_with

FROZEN = 1_800_000_000.0


def started(model: ChatModel) -> tuple[str, str]:
    info = model.config.regions[0].instances[0]
    answer = model.start_chat("us-east-1", StartChat(instance_id=info.id, contact_flow_id=info.contact_flows[0].id, display_name="Bob"))
    connection = model.create_connection(answer["ParticipantToken"], acknowledge=False)
    return answer["ContactId"], connection.token


def test_items_of_a_chat_get_strictly_increasing_times_even_with_a_frozen_clock() -> None:
    model = ChatModel(config_with(agents=[]), clock=lambda: FROZEN)
    contact_id, token = started(model)
    for n in range(5):
        model.send_message(token, "text/plain", f"m{n}", None)
    times = [item.time for item in model.items(contact_id)]
    assert times == sorted(set(times))
    assert times[0] == FROZEN


def test_an_item_keeps_the_clocks_own_reading_beside_its_millisecond_time() -> None:
    model = ChatModel(config_with(agents=[]), clock=lambda: FROZEN + 0.0126)
    contact_id, token = started(model)
    item = model.send_message(token, "text/plain", "hello", None)
    assert item.received_at == FROZEN + 0.0126  # the clock's reading, unrounded
    assert item.time == round(item.time, 3) != item.received_at  # AbsoluteTime's, a whole millisecond


def test_concurrent_senders_lose_nothing_and_listeners_see_the_transcript_order() -> None:
    model = ChatModel(config_with(agents=[]))
    seen: list[str] = []
    model.on_item(lambda contact, item: seen.append(item.id))
    contact_id, token = started(model)

    def send(sender: int) -> None:
        for n in range(50):
            model.send_message(token, "text/plain", f"{sender}-{n}", f"{sender}-{n}")

    threads = [threading.Thread(target=send, args=(sender,)) for sender in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    items = model.items(contact_id)
    messages = [item for item in items if item.type == "MESSAGE"]
    assert len(messages) == 400
    assert len({item.content for item in messages}) == 400
    assert seen == [item.id for item in items]
    assert [item.time for item in items] == sorted(item.time for item in items)


def test_the_readme_configuration_example_decodes() -> None:
    readme = (Path(__file__).resolve().parents[2] / "connect_local" / "README.md").read_text()
    example = re.search(r"```json\n(.*?)```", readme, re.S)
    assert example is not None
    config = load_config(example.group(1).encode())
    assert config.regions[0].instances[0].queues[0].agents[0].replies[1].leave is True


def test_listeners_receive_the_contact_and_the_item() -> None:
    model = ChatModel(config_with(agents=[]))
    received: list[tuple[Contact, Item]] = []
    model.on_item(lambda contact, item: received.append((contact, item)))
    contact_id, token = started(model)
    model.send_message(token, "text/plain", "hi", None)
    assert received[-1][0].id == contact_id
    assert received[-1][1].content == "hi"
