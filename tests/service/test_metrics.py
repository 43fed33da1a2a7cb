"""GET /metrics while a conversation runs through the service against the local Amazon Connect, both
ways, until an auto-disconnect timer hands it back: each figure moves as the conversation does."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from connect_client.health import Outcome
from events.worker_config import AutoDisconnectEvent
from metrics import ServiceMetrics
from service.demo_worker import demo_worker_config
from store.workers import WorkerRegistry
from tests.connect_client.conftest import ONE_ATTEMPT
from tests.service.conftest import Bot, Running, regions_on
from tests.service.harness import events_of, of_type, wait_for
from tests.support.prometheus import Scrape, scrape


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def worker_that_hangs_up(running: Running, clock: Clock) -> str:
    """The demo worker, with a rule that ends the chat 60 s after the agent's last message."""
    config = demo_worker_config(running.connect.ready_info())
    rule = AutoDisconnectEvent(seconds_after_agent_message=60, type="DISCONNECT", user_message="Bye for now")
    data = msgspec.structs.replace(config.data, auto_disconnect_events=[rule])
    return WorkerRegistry(running.store).create(msgspec.structs.replace(config, data=data), at=clock.now)


def test_a_conversation_shows_in_the_metrics_as_it_goes(start_service: Callable[..., Running], bot: Bot) -> None:
    clock = Clock()
    running = start_service(clock=clock)
    worker_id = worker_that_hangs_up(running, clock)
    admin = running.clients.create("prometheus", admin=True).token

    def metrics() -> Scrape:
        return scrape(running.api.url, admin)

    before = metrics()
    assert before.value("connect_worker_transfers_total") == 0
    assert running.api.transfer("m-1", worker_id, DeliverTo=bot.url)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, "m-1"), "AgentJoined"), "Ana to join")
    assert running.api.say("m-1", "b-1", "hello")[0] == 202
    wait_for(
        lambda: [e for e in of_type(events_of(running.store, "m-1"), "AgentMessageReceived") if "hello" in e.content],
        "Ana's answer",
    )
    live = wait_for(lambda: (m := metrics()).value("connect_worker_webhook_deliveries_total", outcome="delivered") and m,
                    "a webhook delivery to be counted")

    assert live.value("connect_worker_transfers_total") == 1
    assert live.value("connect_worker_conversations", phase="connected") == 1
    assert live.total("connect_worker_conversations") == 1
    assert live.value("connect_worker_messages_to_agent_total") == 1
    assert live.value("connect_worker_relay_to_agent_seconds_count") == 1
    received = len(of_type(events_of(running.store, "m-1"), "AgentMessageReceived"))
    assert live.value("connect_worker_messages_to_bot_total") == received >= 1
    assert live.value("connect_worker_relay_to_bot_seconds_count") == received
    assert 0 <= live.value("connect_worker_relay_to_bot_seconds_sum") < 60  # AbsoluteTime, same machine's clock
    region = "us-east-1"
    for operation in ("StartChatContact", "CreateParticipantConnection", "SendMessage"):
        assert live.value("connect_worker_connect_calls_total", region=region, operation=operation) >= 1, operation
        assert live.value("connect_worker_connect_call_seconds_count", region=region, operation=operation) >= 1
    assert live.total("connect_worker_connect_errors_total") == live.total("connect_worker_connect_throttles_total") == 0
    assert live.value("connect_worker_connect_consecutive_failures", region=region) == 0
    assert live.value("connect_worker_store_append_seconds_count") >= len(events_of(running.store, "m-1")) / 4
    assert live.value("connect_worker_store_batch_appends_count") >= 1
    assert live.value("connect_worker_store_events_total") >= len(events_of(running.store, "m-1"))
    assert live.value("connect_worker_store_file_bytes") > 0
    assert live.value("connect_worker_timers_pending") == 1
    assert live.value("connect_worker_webhook_tail_lag") is not None
    assert 'connect_worker_build_info{version="' in live.text

    [armed] = of_type(events_of(running.store, "m-1"), "TimerArmed")[-1:]
    clock.now = armed.due_at + 1.5
    running.service.timers.poke()
    wait_for(lambda: of_type(events_of(running.store, "m-1"), "ReturnedToBot"), "the hand-back")
    after = wait_for(lambda: (m := metrics()).value("connect_worker_handbacks_total", reason="UserLeft") and m,
                     "the hand-back to be counted")

    assert after.total("connect_worker_conversations") == 0
    assert after.value("connect_worker_handbacks_total", reason="AgentLeft") == 0
    assert after.value("connect_worker_timer_lateness_seconds_count") == 1
    assert after.value("connect_worker_timer_lateness_seconds_sum") == 1.5
    assert after.value("connect_worker_messages_to_agent_total") == 1  # the rule's notice to the agent is not the bot's


def test_the_metrics_say_no_token_or_secret(start_service: Callable[..., Running], bot: Bot) -> None:
    running = start_service()
    admin = running.clients.create("prometheus", admin=True)
    assert running.api.transfer("s-1", running.worker_id, DeliverTo=bot.url)[0] == 201
    chat = wait_for(lambda: of_type(events_of(running.store, "s-1"), "ChatStarted"), "the chat")[0]
    opened = wait_for(lambda: of_type(events_of(running.store, "s-1"), "ConnectionOpened"), "the connection")[0]

    text = scrape(running.api.url, admin.token).text

    secrets = [chat.participant_token, opened.connection_token, admin.token, running.api.token, admin.signing_secret]
    assert all(secret and secret not in text for secret in secrets)


def test_two_services_in_one_process_count_apart() -> None:
    first, second = ServiceMetrics(), ServiceMetrics()

    first.connect_call("us-east-1", "SendMessage", Outcome.THROTTLED, 0.1)
    first.phase("c-1", "connected")

    assert b'connect_worker_connect_throttles_total{operation="SendMessage",region="us-east-1"} 1.0' in first.render()
    assert b"connect_worker_connect_throttles_total{" not in second.render()
    assert b'connect_worker_conversations{phase="connected"} 0.0' in second.render()


def test_connect_throttles_and_errors_are_counted_by_operation_and_region(
    start_service: Callable[..., Running],
) -> None:
    running = start_service(regions=regions_on(time.time, ONE_ATTEMPT))  # one attempt: a fault is counted at once
    admin = running.clients.create("prometheus", admin=True).token
    assert running.api.transfer("f-1", running.worker_id)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, "f-1"), "AgentJoined"), "Ana to join")

    running.connect.throttle_next(1, operation="SendMessage")
    assert running.api.say("f-1", "m-1", "first")[0] == 202
    wait_for(lambda: of_type(events_of(running.store, "f-1"), "UserMessageSent"), "the message sent after its retry")
    running.connect.set_outage("us-east-1")
    assert running.api.say("f-1", "m-2", "second")[0] == 202
    failing = wait_for(
        lambda: (m := scrape(running.api.url, admin)).value("connect_worker_connect_consecutive_failures",
                                                            region="us-east-1") and m,
        "the outage to be counted",
    )
    running.connect.set_outage("us-east-1", down=False)

    sends = {"region": "us-east-1", "operation": "SendMessage"}
    assert failing.value("connect_worker_connect_throttles_total", **sends) == 1
    assert failing.value("connect_worker_connect_errors_total", **sends) >= 1
    assert failing.value("connect_worker_connect_calls_total", **sends) >= 3
    assert failing.value("connect_worker_connect_throttles_total", region="us-east-1", operation="StartChatContact") == 0
    assert failing.value("connect_worker_messages_to_agent_total") == 1
