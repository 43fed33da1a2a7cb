"""Crash anywhere, short mode (CI): 15 SIGKILLs of the service while conversations talk both
ways and timers are pending, agents type slash commands (content items, emails through SES),
workers translate both ways and shorten links, one worker's region is signed with a role every start assumes again
through the local STS, and the operator switches another worker's region back and forth; then nothing lost, nothing doubled at Connect, at the bot or at SES,
every timer fired once. The seed is printed (and taken from CRASH_SEED); the long mode is
`bench/crash.py`."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.crash.harness import Settings, run_crash

KILLS = int(os.environ.get("CRASH_KILLS", "15"))
CONVERSATIONS = int(os.environ.get("CRASH_CONVERSATIONS", "24"))  # three of each scenario


@pytest.mark.timeout(300)
def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(2**32))
    report = run_crash(Settings(seed=seed, kills=KILLS, conversations=CONVERSATIONS), tmp_path / "crash")
    lines = report.lines()
    print("\n".join(lines))
    assert report.kills >= 10
    assert report.figures.conversations == CONVERSATIONS
    assert report.figures.bot_messages > 0 and report.figures.agent_messages > 0
    assert report.figures.agent_commands > 0 and report.figures.translated_bot > 0
    assert report.roles.chats > 0 and report.roles.calls >= report.roles.starts
    # Orders were taken (whether a started chat was there to move depends on the kills' timing).
    assert report.figures.failover_switches > 0
    assert report.figures.timers_fired >= CONVERSATIONS // 2  # every DISCONNECT, but where the agent left first
    assert report.ok(), "\n".join(lines)
