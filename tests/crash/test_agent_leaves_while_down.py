"""Found by the crash harness (scenario `leaves`), here without randomness: the agent says goodbye and
leaves while the service is down. On restart Amazon Connect refuses a new participant connection (the
chat has ended), so the service reads no transcript: the goodbye and the agent's leaving never reach
the bot, and the hand-back says Error ("the chat ended at Connect") instead of AgentLeft."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.crash.checks import Evidence, check_conversation
from tests.crash.event_log import timer_histories
from tests.crash.harness import TEXTS, Settings, staged
from tests.crash.scenarios import HUMAN_AGENT, Pace

DEADLINE = 30.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.timeout(120)
def test_an_agent_who_leaves_while_the_service_is_down_is_still_told_to_the_bot(tmp_path: Path) -> None:
    with staged(Settings(seed=0, kills=1, conversations=1), tmp_path / "run", random.Random(0)) as stage:
        conversation = stage.conversation("leaves-down", "human", random.Random(0), Pace())
        conversation.transfer()
        contact_id = stage.connect.wait_for_contact(conversation.id, DEADLINE)
        stage.connect.accept(contact_id, HUMAN_AGENT)
        stage.connect.agent_says(contact_id, "Hello, Hal here.")
        sent = conversation.say(0)
        assert sent.outcome == "accepted"
        assert stage.receiver.wait_for(
            lambda r: any(m.text == "Hello, Hal here." for m in r.arrivals(conversation.id)), DEADLINE
        ), "the greeting before the kill"
        wait_until(lambda: any(i.get("Content") == sent.text for i in stage.connect.record(contact_id)["Items"]),
                   "the bot's message at Connect before the kill")

        stage.service.kill()
        stage.connect.agent_says(contact_id, "Goodbye.")
        stage.connect.agent_leaves(contact_id)
        stage.service.start()

        stage.receiver.wait_for(lambda r: r.returned(conversation.id), DEADLINE)
        stage.service.stop()
        evidence = Evidence(conversation.id, conversation.record, stage.receiver.arrivals(conversation.id),
                            [stage.connect.record(contact_id)],
                            timer_histories(stage.data / "events.db")[conversation.id], "AgentLeft")
        figures = check_conversation(evidence, TEXTS)
    assert figures.ok(), "\n".join(figures.problems)
