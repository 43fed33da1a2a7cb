"""GET /v1/regions on the running service: each region in use, its live conversations and how its
calls to the local Amazon Connect went, faults injected there, on the test's clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from service.demo_worker import DEMO_SECRET
from tests.connect_client.conftest import ONE_ATTEMPT
from tests.service.conftest import Running, regions_on
from tests.service.harness import events_of, of_type, wait_for


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def regions(running: Running) -> list[dict[str, Any]]:
    status, body = running.api.call("GET", "/v1/regions")
    assert status == 200, body
    return body["Regions"]


def at(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


def connected(running: Running, conversation_id: str) -> None:
    assert running.api.transfer(conversation_id, running.worker_id)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, conversation_id), "AgentJoined"), f"Ana in {conversation_id}")


def test_no_region_is_in_use_before_the_first_conversation(running: Running) -> None:
    assert regions(running) == []


def test_a_region_in_use_shows_its_live_conversations_and_its_calls(start_service: Callable[..., Running]) -> None:
    clock = Clock()
    running = start_service(regions=regions_on(clock, ONE_ATTEMPT))
    connected(running, "c-1")
    connected(running, "c-2")

    [region] = regions(running)

    assert (region["Region"], region["Secret"], region["LiveConversations"]) == ("us-east-1", DEMO_SECRET, 2)
    assert region["Calls"] >= 4  # each: StartChatContact, CreateParticipantConnection
    assert (region["Errors"], region["Throttles"], region["ErrorRate"], region["ThrottleRate"]) == (0, 0, 0.0, 0.0)
    assert region["LatencyP50Ms"] > 0 and region["LatencyP99Ms"] >= region["LatencyP50Ms"]
    assert (region["ConsecutiveFailures"], region["FailingSince"], region["LastFailureAt"]) == (0, None, None)
    assert at(region["LastSuccessAt"]) == clock.now


def test_an_outage_shows_as_failures_in_a_row_since_the_first_until_the_region_answers(
    start_service: Callable[..., Running],
) -> None:
    clock = Clock()
    running = start_service(regions=regions_on(clock, ONE_ATTEMPT))
    connected(running, "c-1")
    down_at = clock.now = clock.now + 60
    running.connect.set_outage("us-east-1")

    assert running.api.say("c-1", "m-1", "anyone there?")[0] == 202   # SendMessage fails, and is retried
    [failing] = wait_for(lambda: [r for r in regions(running) if r["ConsecutiveFailures"] >= 2], "two failures")

    assert failing["Errors"] >= 2 and failing["ErrorRate"] > 0
    assert at(failing["FailingSince"]) == at(failing["LastFailureAt"]) == down_at
    assert at(failing["LastSuccessAt"]) < down_at

    clock.now += 30
    running.connect.set_outage("us-east-1", down=False)
    [back] = wait_for(lambda: [r for r in regions(running) if r["ConsecutiveFailures"] == 0], "the region back")
    assert back["FailingSince"] is None
    assert at(back["LastSuccessAt"]) == down_at + 30
    assert at(back["LastFailureAt"]) == down_at


def test_only_a_client_reads_the_regions(running: Running) -> None:
    status, body = running.api.call("GET", "/v1/regions", token="not-a-token")

    assert status == 401 and body["Code"] == "unauthorized"
