"""Scenarios: what a conversation does while the service is being killed, and what to check of it
beyond the common checks (tests/crash/checks.py).

Adding one (a later feature's own): write a class with

- `name`: a short word; it prefixes the conversation ids (`<name>-007`);
- `flow`: `"simulated"` (Ana joins at once, greets, answers every customer message) or `"human"`
  (nobody joins: `play` accepts the chat through `conversation.connect` and speaks as the agent);
  a new kind of Connect behaviour goes into `connect_side.connect_config` as a new flow;
- `expected_end(timers)`: the hand-back's `SessionEndReason`, given the timers the log says fired;
- `play(conversation)`: runs on a thread of its own; drive the bot with `conversation.transfer()`
  and `conversation.say(n)` (these retry through the kills), the agent with `conversation.connect`;
  draw every random choice from `conversation.rng`, so the seed replays the plan. It must leave the
  conversation on its way to a hand-back (here: silence, so the DISCONNECT timer ends it);
- `check(evidence) -> list[str]`: problems found, each naming what is wrong;

and pass it in `scenarios=` to `tests.crash.harness.run_crash` (or add it to `DEFAULT_SCENARIOS`).
"""

from __future__ import annotations

import random
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol

from tests.crash.bot import BotApi, BotRecord, Sent
from tests.crash.checks import Evidence
from tests.crash.connect_side import ChatOver, ConnectSide
from tests.crash.event_log import TimerHistory

HUMAN_AGENT = "Hal"
CONTACT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Pace:
    """How much a conversation says and how fast (seconds between its messages)."""

    messages: tuple[int, int] = (2, 6)
    gap: tuple[float, float] = (0.05, 0.8)


@dataclass
class Conversation:
    """One conversation as a scenario drives it."""

    id: str
    rng: random.Random
    pace: Pace
    bot: BotApi
    record: BotRecord
    worker_id: str
    webhook_url: str
    connect: ConnectSide

    def transfer(self) -> None:
        self.bot.transfer(self.record, self.worker_id, self.webhook_url, user_name=self.id)

    def say(self, n: int) -> Sent:
        """The bot's n-th message (MessageId `<conversation>/m<n>`), sent until the service answers."""
        return self.bot.say(self.record, f"{self.id}/m{n}", f"{self.id} says #{n} ({self.rng.randrange(10**6)})")

    def count(self) -> int:
        return self.rng.randint(*self.pace.messages)

    def gap(self) -> float:
        return self.rng.uniform(*self.pace.gap)


class Scenario(Protocol):
    name: str
    flow: str

    def expected_end(self, timers: TimerHistory) -> str: ...

    def play(self, conversation: Conversation) -> None: ...

    def check(self, evidence: Evidence) -> list[str]: ...


def _pause(seconds: float) -> None:
    # The script's pace between two messages: part of the plan drawn from the seed, not a wait for anything.
    time.sleep(seconds)


def _ended_by_silence(evidence: Evidence) -> list[str]:
    fired = evidence.timers.fired_kinds["DISCONNECT"]
    return [] if fired == 1 else [f"{evidence.conversation_id}: DISCONNECT fired {fired} times, not once"]


class AnaAnswers:
    """The bot says a few things, Ana answers each; then the bot goes quiet and the timers end it."""

    name = "ana"
    flow = "simulated"

    def expected_end(self, timers: TimerHistory) -> str:
        return "UserLeft"

    def play(self, conversation: Conversation) -> None:
        conversation.transfer()
        for n in range(conversation.count()):
            if conversation.say(n).outcome == "refused":
                return
            _pause(conversation.gap())

    def check(self, evidence: Evidence) -> list[str]:
        return _ended_by_silence(evidence)


class HumanAgent:
    """A human agent (the harness, through the agent API) and the bot talk at the same time, each at
    its own pace, so agent messages reach Connect while the service is down; the agent speaks last,
    so the timers count the user's silence from then."""

    name = "human"
    flow = "human"

    def expected_end(self, timers: TimerHistory) -> str:
        return "UserLeft"

    def play(self, conversation: Conversation) -> None:
        contact_id = self.talk(conversation)
        if contact_id is not None:
            with suppress(ChatOver):
                conversation.connect.agent_says(contact_id, f"Anything else, {conversation.id}?")

    def talk(self, conversation: Conversation) -> str | None:
        """Transfer, accept, and both sides talk at once; the contact id, or None if the chat ended early."""
        conversation.transfer()
        contact_id = conversation.connect.wait_for_contact(conversation.id, CONTACT_TIMEOUT)
        conversation.connect.accept(contact_id, HUMAN_AGENT)
        agent_rng = random.Random(conversation.rng.getrandbits(64))
        agent_says = conversation.count()
        bot_says = conversation.count()

        failed: list[BaseException] = []

        def agent() -> None:
            try:
                conversation.connect.agent_says(contact_id, f"Hello {conversation.id}, {HUMAN_AGENT} here.")
                for n in range(agent_says):
                    _pause(agent_rng.uniform(*conversation.pace.gap))
                    conversation.connect.agent_says(contact_id, f"{HUMAN_AGENT} to {conversation.id} #{n}")
            except ChatOver:
                pass  # the DISCONNECT rule ended it first: the checks compare with what Connect holds
            except BaseException as error:  # noqa: BLE001 - raised again on the scenario's thread
                failed.append(error)

        speaking = threading.Thread(target=agent, name=f"agent-{conversation.id}", daemon=True)
        speaking.start()
        try:
            for n in range(bot_says):
                if conversation.say(n).outcome == "refused":
                    return None
                _pause(conversation.gap())
        finally:
            speaking.join()
        if failed:
            raise failed[0]
        return contact_id

    def check(self, evidence: Evidence) -> list[str]:
        return _ended_by_silence(evidence)


class HumanAgentLeaves(HumanAgent):
    """As HumanAgent, but the agent says goodbye and leaves: the chat ends at Connect, perhaps while
    the service is down, and the bot must still be told the goodbye, the agent's leaving and AgentLeft."""

    name = "leaves"

    def expected_end(self, timers: TimerHistory) -> str:
        # A long enough run of kills can keep the user silent past the DISCONNECT rule first.
        return "UserLeft" if timers.fired_kinds["DISCONNECT"] else "AgentLeft"

    def play(self, conversation: Conversation) -> None:
        contact_id = self.talk(conversation)
        if contact_id is not None:
            with suppress(ChatOver):
                conversation.connect.agent_says(contact_id, f"Goodbye, {conversation.id}.")
                conversation.connect.agent_leaves(contact_id)

    def check(self, evidence: Evidence) -> list[str]:
        return []


DEFAULT_SCENARIOS: tuple[Scenario, ...] = (AnaAnswers(), HumanAgent(), HumanAgentLeaves())
