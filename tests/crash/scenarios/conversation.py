"""What a scenario is given and what it is: one conversation to drive (the bot's API, the agent's side at
Connect, the plan's random numbers), the Scenario protocol, and the worker a scenario may need of its own."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tests.crash.bot import BotApi, BotRecord, Sent
from tests.crash.checks import Evidence
from tests.crash.connect_side import ConnectSide
from tests.crash.event_log import TimerHistory


@dataclass(frozen=True)
class Pace:
    """How much a conversation says and how fast (seconds between its messages)."""

    messages: tuple[int, int] = (2, 6)
    gap: tuple[float, float] = (0.05, 0.8)


@dataclass(frozen=True)
class WorkerPlan:
    """A scenario's worker beyond its flow's, made before the service starts as an operator makes one:
    `data`, fields of the worker file's `Data` (SlashCommands, translation configs); `connectors`, the
    connector files it names (the seed's format; the first of each Alias is created); `content`, its
    content items by key; `roles`, the cross-account roles (`{"RoleArn", "ExternalId"}`) by the vault
    reference the worker's `Secret` names, stored with `run.py secret put` (the local STS refuses any
    other external id for the role); `secrets`, other vault values by reference. In `data`, `{connect}`
    stands for the local Amazon Connect's address (its short-link API's, say).

        WorkerPlan(data={"SlashCommands": {"/welcome": {"actions": [{"type": "content", "value": "hi"}]}}},
                   content={"hi": "Welcome, {{name}}!"})
    """

    data: Mapping[str, Any]
    connectors: tuple[Mapping[str, Any], ...] = ()
    content: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Values of type `secret` (a short-link API's key) by vault reference, stored with `run.py secret put`.
    secrets: Mapping[str, str] = field(default_factory=dict)


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
    data: Path  # the service's data folder, where an operator's command (run.py failover) writes
    handed_back: Callable[[], bool]  # whether the bot has been told the conversation's hand-back

    def transfer(self, context: dict[str, Any] | None = None) -> None:
        """`context` joins the conversation's `{"Case": <id>}`."""
        self.bot.transfer(self.record, self.worker_id, self.webhook_url, user_name=self.id, context=context)

    def line(self, n: int) -> str:
        """The bot's usual n-th message: unique in the run."""
        return f"{self.id} says #{n} ({self.rng.randrange(10**6)})"

    def say(self, n: int, text: str | None = None) -> Sent:
        """The bot's n-th message (MessageId `<conversation>/m<n>`), `text` or `line(n)`, sent until the
        service answers. A conversation's texts must differ: the checker tells them apart by text."""
        return self.bot.say(self.record, f"{self.id}/m{n}", self.line(n) if text is None else text)

    def count(self) -> int:
        return self.rng.randint(*self.pace.messages)

    def gap(self) -> float:
        return self.rng.uniform(*self.pace.gap)


class Scenario(Protocol):
    name: str
    flow: str
    worker: WorkerPlan | None

    def expected_end(self, timers: TimerHistory) -> str: ...

    def play(self, conversation: Conversation) -> None: ...

    def check(self, evidence: Evidence) -> list[str]: ...


def pause(seconds: float) -> None:
    # The script's pace between two messages: part of the plan drawn from the seed, not a wait for anything.
    time.sleep(seconds)
