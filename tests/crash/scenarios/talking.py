"""The first scenarios: the bot talks with Ana (the local Connect's simulated agent), or with a human
agent the harness plays, who may end by leaving; the timers end the rest by the user's silence."""

from __future__ import annotations

import random
import threading
from contextlib import suppress
from typing import Any, Protocol

from tests.crash.checks import Evidence
from tests.crash.connect_side import ChatOver
from tests.crash.event_log import TimerHistory
from tests.crash.scenarios.conversation import Conversation, WorkerPlan, pause

HUMAN_AGENT = "Hal"
CONTACT_TIMEOUT = 60.0


def ended_by_silence(evidence: Evidence) -> list[str]:
    fired = evidence.timers.fired_kinds["DISCONNECT"]
    return [] if fired == 1 else [f"{evidence.conversation_id}: DISCONNECT fired {fired} times, not once"]


class AnaAnswers:
    """The bot says a few things, Ana answers each; then the bot goes quiet and the timers end it."""

    name = "ana"
    flow = "simulated"
    worker: WorkerPlan | None = None

    def expected_end(self, timers: TimerHistory) -> str:
        return "UserLeft"

    def play(self, conversation: Conversation) -> None:
        conversation.transfer()
        for n in range(conversation.count()):
            if conversation.say(n).outcome == "refused":
                return
            pause(conversation.gap())

    def check(self, evidence: Evidence) -> list[str]:
        return ended_by_silence(evidence)


class ChatAgent(Protocol):
    def say(self, text: str) -> bool:
        """Whether `text` was written in the customer's chat (False: it is over)."""
        ...


class FixedAgent:
    """The human agent of one customer's one chat: accepts it at the first line, then writes in it
    until it ends."""

    def __init__(self, conversation: Conversation) -> None:
        self._conversation = conversation
        self.contact_id: str | None = None

    def say(self, text: str) -> bool:
        connect = self._conversation.connect
        if self.contact_id is None:
            self.contact_id = connect.wait_for_contact(self._conversation.id, CONTACT_TIMEOUT)
            connect.accept(self.contact_id, HUMAN_AGENT)
        try:
            connect.agent_says(self.contact_id, text)
        except ChatOver:
            return False  # the DISCONNECT rule ended it first: the checks compare with what Connect holds
        return True


class HumanAgent:
    """A human agent (the harness, through the agent API) and the bot talk at the same time, each at
    its own pace, so agent messages reach Connect while the service is down; the agent speaks last,
    so the timers count the user's silence from then."""

    name = "human"
    flow = "human"
    worker: WorkerPlan | None = None

    def expected_end(self, timers: TimerHistory) -> str:
        return "UserLeft"

    def play(self, conversation: Conversation) -> None:
        agent = self.talk(conversation)
        if agent is not None:
            agent.say(f"Anything else, {conversation.id}?")

    def context(self, conversation: Conversation) -> dict[str, Any]:
        """What the bot adds to the conversation's context at the transfer."""
        return {}

    def agent_lines(self, conversation: Conversation, count: int, rng: random.Random) -> list[str]:
        """What the agent writes after the greeting, drawn from `rng` (the agent's own)."""
        return [f"{HUMAN_AGENT} to {conversation.id} #{n}" for n in range(count)]

    def bot_lines(self, conversation: Conversation, count: int) -> list[str]:
        return [conversation.line(n) for n in range(count)]

    def agent_for(self, conversation: Conversation) -> ChatAgent:
        """Who answers the customer: one agent in the one chat."""
        return FixedAgent(conversation)

    def halfway(self, conversation: Conversation) -> None:
        """What happens when the bot has said half its lines: nothing here."""

    def talk(self, conversation: Conversation) -> ChatAgent | None:
        """Transfer, and both sides talk at once; the agent, or None if the chat ended early."""
        conversation.transfer(self.context(conversation))
        agent = self.agent_for(conversation)
        agent_rng = random.Random(conversation.rng.getrandbits(64))
        agent_lines = self.agent_lines(conversation, conversation.count(), agent_rng)
        bot_lines = self.bot_lines(conversation, conversation.count())

        failed: list[BaseException] = []

        def speak() -> None:
            try:
                if not agent.say(f"Hello {conversation.id}, {HUMAN_AGENT} here."):
                    return
                for line in agent_lines:
                    pause(agent_rng.uniform(*conversation.pace.gap))
                    if not agent.say(line):
                        return
            except BaseException as error:  # noqa: BLE001 - raised again on the scenario's thread
                failed.append(error)

        speaking = threading.Thread(target=speak, name=f"agent-{conversation.id}", daemon=True)
        speaking.start()
        try:
            for n, line in enumerate(bot_lines):
                if n == len(bot_lines) // 2:
                    self.halfway(conversation)
                if conversation.say(n, line).outcome == "refused":
                    return None
                pause(conversation.gap())
        finally:
            speaking.join()
        if failed:
            raise failed[0]
        return agent

    def check(self, evidence: Evidence) -> list[str]:
        return ended_by_silence(evidence)


class HumanAgentLeaves(HumanAgent):
    """As HumanAgent, but the agent says goodbye and leaves: the chat ends at Connect, perhaps while
    the service is down, and the bot must still be told the goodbye, the agent's leaving and AgentLeft."""

    name = "leaves"

    def expected_end(self, timers: TimerHistory) -> str:
        # A long enough run of kills can keep the user silent past the DISCONNECT rule first.
        return "UserLeft" if timers.fired_kinds["DISCONNECT"] else "AgentLeft"

    def play(self, conversation: Conversation) -> None:
        agent = self.talk(conversation)
        if isinstance(agent, FixedAgent) and agent.say(f"Goodbye, {conversation.id}.") and agent.contact_id:
            with suppress(ChatOver):
                conversation.connect.agent_leaves(agent.contact_id)

    def check(self, evidence: Evidence) -> list[str]:
        return []

