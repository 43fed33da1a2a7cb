"""Crash anywhere, three-node mode, short (CI): three `run.py serve` nodes on one DynamoDB log (moto's
server, tests/crash/cluster.py), leases of a few seconds, conversations spread over the nodes; a node
drawn from the seed is SIGKILLed at random moments and started again once the others have taken over
its conversations (its bots meanwhile call the next node, which forwards to the new owner). Then the
same checks as the one-node mode: nothing lost, nothing doubled at Connect or at the bot, every timer
fired once. The seed is printed (and taken from CRASH_SEED); the long mode is
`bench/crash.py --nodes 3`."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.crash.harness import Settings, run_crash
from tests.crash.scenarios import AnaAnswers, HumanAgent, HumanAgentLeaves

KILLS = int(os.environ.get("CRASH_KILLS", "3"))
CONVERSATIONS = int(os.environ.get("CRASH_CONVERSATIONS", "6"))  # two of each scenario, two on each node
SCENARIOS = (AnaAnswers(), HumanAgent(), HumanAgentLeaves())
LEASE_SECONDS = 10.0  # as tests/cluster/test_three_nodes.py: shorter leases moved between live nodes under load


@pytest.mark.timeout(600)
def test_three_nodes_sigkill_of_any_node_at_random_moments_loses_and_doubles_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(2**32))
    settings = Settings(seed=seed, kills=KILLS, conversations=CONVERSATIONS, nodes=3, lease_seconds=LEASE_SECONDS)
    report = run_crash(settings, tmp_path / "crash", scenarios=SCENARIOS)
    lines = report.lines()
    print("\n".join(lines))
    assert report.kills == KILLS and len(report.takeover_seconds) == KILLS
    assert report.figures.conversations == CONVERSATIONS
    assert report.figures.bot_messages > 0 and report.figures.agent_messages > 0
    assert report.ok(), "\n".join(lines)
