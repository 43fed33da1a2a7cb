"""Failover under kills: halfway through each conversation the operator switches the scenario's worker to
the other region (`run.py failover`, move and drain by turns, the first a move), while the service is
up or down; every conversation of the worker takes each order once, whatever its phase, and its agent
follows its chat to wherever a move starts it again."""

from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import suppress

from events.conversation_decide import MOVED_NOTICE
from tests.crash import service_process
from tests.crash.checks import Evidence
from tests.crash.connect_side import FAILOVER_REGION, FLOWS, INSTANCE, QUEUES, ChatOver
from tests.crash.scenarios.conversation import Conversation, WorkerPlan, pause
from tests.crash.scenarios.talking import CONTACT_TIMEOUT, HUMAN_AGENT, HumanAgent, ended_by_silence

OPEN = ("WAITING", "CONNECTED")


class FollowingAgent:
    """The human agent of one customer: writes in the customer's open chat, accepting it first, and
    when a move has ended it there, waits for the chat started again elsewhere and takes that one."""

    def __init__(self, conversation: Conversation) -> None:
        self._conversation = conversation
        self._accepted: set[str] = set()

    def say(self, text: str) -> bool:
        """Whether `text` was written; False once the bot has been told the hand-back (the DISCONNECT
        rule ended the chat: a move's new chat may have started late, its timers already due), or when
        the customer has no open chat for CONTACT_TIMEOUT seconds."""
        connect = self._conversation.connect
        deadline = time.monotonic() + CONTACT_TIMEOUT
        while time.monotonic() < deadline and not self._conversation.handed_back():
            contact_id = self._open_chat()
            if contact_id is not None:
                with suppress(ChatOver):  # moved (or ended) meanwhile: look again
                    if contact_id not in self._accepted:
                        connect.accept(contact_id, HUMAN_AGENT)
                        self._accepted.add(contact_id)
                    connect.agent_says(contact_id, text)
                    return True
            pause(0.05)  # the agent looks again at the chats on their screen
        return False

    def stay_until_handed_back(self, text: str, timeout: float) -> None:
        """After the agent's last line: a move ordered meanwhile starts the customer's chat again
        elsewhere, waiting in a queue; the agent takes it there and writes `text` again, until the bot
        is told the hand-back (or `timeout` seconds: the checks then say what is missing)."""
        deadline = time.monotonic() + timeout
        while not self._conversation.handed_back() and time.monotonic() < deadline:
            contact_id = self._open_chat()
            if contact_id is not None and contact_id not in self._accepted:
                self.say(text)
            pause(0.05)  # the agent looks again at the chats on their screen

    def _open_chat(self) -> str | None:
        chats = [c for c in self._conversation.connect.chats()
                 if c["CustomerName"] == self._conversation.id and c["State"] in OPEN]
        return chats[0]["ContactId"] if chats else None  # the newest


class Failover(HumanAgent):
    """As HumanAgent, with a worker that has the failover region "dublin" (FAILOVER_REGION, the same
    instance and flow); each conversation gives one order halfway through its bot lines. The common
    checks count one more contact per move of a started chat, and find every message once across the
    contacts; this checks that each move told the user once, and that the hand-back names the region
    of the conversation's last chat."""

    name = "failover"
    worker = WorkerPlan(data={"FailoverRegionConfig": {"FailoverRegions": [{
        "Name": "dublin", "Secret": "srn:vault::crash:aws-cross-account-role:dublin", "Region": FAILOVER_REGION,
        "InstanceId": INSTANCE, "ContactFlowId": FLOWS["human"], "QueueId": QUEUES["human"],
    }]}})

    def __init__(self) -> None:
        self._orders = threading.Lock()
        self._given = 0

    def agent_for(self, conversation: Conversation) -> FollowingAgent:
        return FollowingAgent(conversation)

    def play(self, conversation: Conversation) -> None:
        agent = self.talk(conversation)
        if isinstance(agent, FollowingAgent):
            last = f"Anything else, {conversation.id}?"
            agent.say(last)
            agent.stay_until_handed_back(last, timeout=2 * CONTACT_TIMEOUT)

    def halfway(self, conversation: Conversation) -> None:
        """The operator switches the worker to the other region (the service may be down)."""
        self._order(conversation)

    def _order(self, conversation: Conversation) -> None:
        with self._orders:
            where = ["--to", "dublin"] if self._given % 2 == 0 else ["--primary"]
            mode = "--move" if self._given % 4 in (0, 1) else "--drain"
            self._given += 1
            code, out = service_process.failover(conversation.worker_id, conversation.data, *where, mode, "--wait", "0")
        if code not in (0, 1):
            raise RuntimeError(f"run.py failover failed ({code}): {out}")

    def check(self, evidence: Evidence) -> list[str]:
        cid = evidence.conversation_id
        problems = ended_by_silence(evidence)
        told = list({m.id: m for m in evidence.arrivals}.values())
        notified = Counter(m.text for m in told if m.type == "UserNotified")
        if notified[MOVED_NOTICE] != evidence.moves:
            problems.append(f"{cid}: {evidence.moves} moves of a started chat (log), the user told {notified[MOVED_NOTICE]}")
        returned = [m for m in told if m.type == "ReturnedToBot"]
        if returned and evidence.contacts:
            served = returned[-1].context.get("ConnectRegion", {}).get("Region")
            last = evidence.contacts[-1]["Region"]
            if served != last:
                problems.append(f"{cid}: handed back as served by {served}, its last chat was in {last}")
        return problems
