"""Three `run.py serve` nodes on one DynamoDB log (moto's server on loopback) and one local Amazon
Connect (tests/crash/cluster.py): conversations handed over on each node, lines both ways, the agents
leave and every conversation is handed back; then every conversation's views are checked as the crash
harness checks them (tests/crash/checks.py): every bot line at Connect once, every agent line told to
the bot once, one hand-back, last."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.crash.bot import Sent
from tests.crash.checks import Evidence, Figures, check_conversation
from tests.crash.cluster import ClusterUnderTest
from tests.crash.harness import TEXTS, Settings, Stage, staged
from tests.crash.scenarios import HUMAN_AGENT, Conversation, Pace
from tests.service.harness import wait_for

NODES = 3
PER_NODE = 2
DEADLINE = 30.0
# Long enough never to fire: the agents end every conversation; the timers are armed, re-armed and cancelled.
SETTINGS = Settings(seed=0, kills=0, conversations=NODES * PER_NODE, warning_seconds=600, disconnect_seconds=900,
                    nodes=NODES)


class Chat:
    """One conversation of the test: its bot on a node, its contact at Connect, what each side said."""

    def __init__(self, stage: Stage, n: int) -> None:
        self.n = n
        self.node = n % NODES
        self.conversation: Conversation = stage.conversation(f"three-{n}", "human", random.Random(n), Pace(),
                                                             node=self.node)
        self.stage = stage
        self.contact_id = ""
        self.bot_lines: list[Sent] = []
        self.agent_lines: list[str] = []

    @property
    def id(self) -> str:
        return self.conversation.id

    def begin(self) -> None:
        self.conversation.transfer()
        self.contact_id = self.stage.connect.wait_for_contact(self.id, DEADLINE)
        self.stage.connect.accept(self.contact_id, HUMAN_AGENT)

    def both_ways(self, round_: int) -> None:
        """The bot says a line (to its node), the agent writes one at Connect."""
        sent = self.conversation.say(round_)
        assert sent.outcome == "accepted", sent
        self.bot_lines.append(sent)
        text = f"{HUMAN_AGENT} to {self.id} #{round_}"
        self.stage.connect.agent_says(self.contact_id, text)
        self.agent_lines.append(text)

    def relayed(self) -> bool:
        """Whether every bot line is at Connect and every agent line has reached the bot."""
        at_connect = {i.get("Content") for i in self.stage.connect.record(self.contact_id)["Items"]}
        told = {m.text for m in self.stage.receiver.once_each(self.id)}
        return all(s.text in at_connect for s in self.bot_lines) and all(t in told for t in self.agent_lines)


def check(stage: Stage, chats: list[Chat]) -> Figures:
    stage.service.stop()  # cleanly, so the log is read whole
    logs = stage.service.read_log(stage.folder / "log-read.db")
    total = Figures()
    for chat in chats:
        evidence = Evidence(chat.id, chat.conversation.record, stage.receiver.arrivals(chat.id),
                            [stage.connect.record(chat.contact_id)], logs[chat.id].timers, "AgentLeft")
        total = total + check_conversation(evidence, TEXTS)
    return total


@pytest.mark.timeout(180)
def test_three_nodes_on_one_table_serve_conversations_side_by_side(tmp_path: Path) -> None:
    with staged(SETTINGS, tmp_path / "run", random.Random(0)) as stage:
        assert isinstance(stage.service, ClusterUnderTest)
        chats = [Chat(stage, n) for n in range(NODES * PER_NODE)]
        for chat in chats:
            chat.begin()
        for round_ in range(2):
            for chat in chats:
                chat.both_ways(round_)
        wait_for(lambda: all(chat.relayed() for chat in chats), "every line relayed both ways", DEADLINE)
        for chat in chats:
            stage.connect.agent_leaves(chat.contact_id)
        assert stage.receiver.wait_for(lambda r: all(r.returned(chat.id) for chat in chats), DEADLINE), \
            "every conversation handed back"
        figures = check(stage, chats)
    assert figures.conversations == len(chats)
    assert figures.bot_messages == 2 * len(chats) and figures.agent_messages >= 2 * len(chats)
    assert figures.ok(), "\n".join(figures.problems)
