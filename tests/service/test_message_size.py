"""Message size at Connect is in UTF-8 bytes: a long message in a non-Latin script is split to fit, a
worker may set a lower limit, and a piece Connect still calls too long is split smaller and sent again,
never lost. The local Amazon Connect counts bytes as Connect does."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from connect_local.config import AgentConfig, Limits
from events.long_messages import utf8_size
from service.demo_worker import demo_worker_config
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.service.conftest import Bot, Running
from tests.service.harness import events_of, of_type, wait_for

# Answers briefly: an echo of a piece at Connect's limit would itself be over it.
BRIEF_ANA = AgentConfig(name="Ana", join_delay_seconds=0, default_reply="Noted.")


def customer_messages(running: Running, conversation_id: str) -> list[dict]:
    contact_id = running.service.state(conversation_id).chat.contact_id
    record = running.connect.contact_record(contact_id)
    return [item for item in record["Items"] if item["Type"] == "MESSAGE" and item["ParticipantRole"] == "CUSTOMER"]


def sent_whole(running: Running, conversation_id: str, text: str) -> list[dict]:
    """The customer's messages at Connect, once they join back to `text`."""
    wait_for(lambda: running.service.state(conversation_id).chat, "the chat to start")
    return wait_for(
        lambda: (sent := customer_messages(running, conversation_id)) and "".join(m["Content"] for m in sent) == text and sent,
        "the whole message at Connect",
    )


def test_a_cyrillic_message_under_16384_characters_but_over_16384_bytes_is_sent_in_pieces_that_fit(
    start_service: Callable[..., Running],
) -> None:
    running = start_service(config_with([BRIEF_ANA]))
    text = "Добрый день. " * 770  # 10,010 characters, 19,250 bytes
    assert len(text) < 16_384 < utf8_size(text)
    running.api.transfer("s-1", running.worker_id)
    assert running.api.say("s-1", "m-1", text)[0] == 202
    sent = sent_whole(running, "s-1", text)
    assert len(sent) == 2 and all(utf8_size(m["Content"]) <= 16_384 for m in sent)
    requested = of_type(events_of(running.store, "s-1"), "UserMessageRequested")
    assert [m["ClientToken"] for m in sent] == [r.client_token for r in requested]
    assert not of_type(events_of(running.store, "s-1"), "UserMessageResplit")  # split right the first time


def test_a_workers_max_message_bytes_splits_messages_below_connects_limit(start_service: Callable[..., Running]) -> None:
    running = start_service(config_with([BRIEF_ANA]))
    config = demo_worker_config(running.connect.ready_info())
    small = msgspec.structs.replace(config, name="small", data=msgspec.structs.replace(config.data, max_message_bytes=1_000))
    worker = WorkerRegistry(running.store).create(small, at=time.time())
    text = "Καλημέρα σας. " * 100  # 2,600 bytes
    running.api.transfer("s-2", worker)
    assert running.api.say("s-2", "m-1", text)[0] == 202
    sent = sent_whole(running, "s-2", text)
    assert len(sent) == 3 and all(utf8_size(m["Content"]) <= 1_000 for m in sent)


def test_a_piece_connect_calls_too_long_is_split_smaller_and_sent_again_in_order(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with([BRIEF_ANA], limits=Limits(message_max_bytes=1_000)))  # lower than the worker's
    text = "".join(f"Sentence number {n} of a long message. " for n in range(80))  # 3,190 bytes
    running.api.transfer("s-3", running.worker_id, DeliverTo=bot.url)
    assert running.api.say("s-3", "m-1", text)[0] == 202
    assert running.api.say("s-3", "m-2", "and after it")[0] == 202
    sent = sent_whole(running, "s-3", text + "and after it")
    assert all(utf8_size(m["Content"]) <= 1_000 for m in sent)
    events = events_of(running.store, "s-3")
    # 3,190 bytes, refused; both halves (about 1,600 bytes), refused; their halves taken; then the next message.
    resplit = {event.request_seq for event in of_type(events, "UserMessageResplit")}
    assert len(resplit) == 3
    # Every intent not split again was sent once, with its own client token, in the order of the text.
    requested = {event.client_token: event.text for event in of_type(events, "UserMessageRequested")}
    assert len(sent) == len(requested) - len(resplit)
    assert all(requested[m["ClientToken"]] == m["Content"] for m in sent)
    assert sent[-1]["Content"] == "and after it"
    wait_for(lambda: [m for m in bot.received if m["Type"] == "AgentMessage"], "Ana's answer")
    assert not [m for m in bot.received if m["Type"] == "MessageRefused"]
