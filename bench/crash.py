"""Crash anywhere, long mode: the harness of tests/crash/ with many kills, run by hand.

    .venv/bin/python bench/crash.py --kills 100 --conversations 60
    .venv/bin/python bench/crash.py --seed 1234 ...        # replay a run's plan (or CRASH_SEED=1234)
    .venv/bin/python bench/crash.py --scenarios slash translate ...   # only these, in turn
    .venv/bin/python bench/crash.py --nodes 3 --kills 20   # the three-node mode (all but role and failover)

Prints the seed first and the figures last; exits 1 if anything was lost or doubled (at Connect, at
the bot, or by a slash command at SES). Logs, the service's data folder and the local Connect's log
stay in bench/out/crash-SEED/ (or --out, which must be a new folder: the data folder is not reused).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.crash.harness import Settings, run_crash  # noqa: E402
from tests.crash.scenarios import DEFAULT_SCENARIOS, ONE_NODE_ONLY, Pace  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(2**32))
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--messages", type=int, nargs=2, default=(3, 10), metavar=("MIN", "MAX"),
                        help="bot messages per conversation (and agent messages, for a human agent)")
    parser.add_argument("--gap", type=float, nargs=2, default=(0.05, 0.8), metavar=("MIN", "MAX"),
                        help="seconds between a conversation's messages")
    parser.add_argument("--kill-delay", type=float, nargs=2, default=(0.0, 1.5), metavar=("MIN", "MAX"),
                        help="seconds from the service listening again to the next SIGKILL")
    parser.add_argument("--warning-seconds", type=int, default=3)
    parser.add_argument("--disconnect-seconds", type=int, default=5)
    parser.add_argument("--scenarios", nargs="+", choices=[s.name for s in DEFAULT_SCENARIOS],
                        help="which scenarios, in turn (default: all; with --nodes, all but "
                             + " and ".join(sorted(ONE_NODE_ONLY)) + ", which run on one node only)")
    parser.add_argument("--nodes", type=int, default=1,
                        help="nodes on one DynamoDB log (moto's server); each kill takes one (tests/crash/cluster.py)")
    parser.add_argument("--lease-seconds", type=float, default=10.0, help="with --nodes: the leases' time")
    parser.add_argument("--out", type=Path, help="folder for logs and data (default bench/out/crash-SEED)")
    args = parser.parse_args()
    several = args.nodes > 1
    if args.scenarios is None:
        args.scenarios = [s.name for s in DEFAULT_SCENARIOS if not (several and s.name in ONE_NODE_ONLY)]
    elif several and ONE_NODE_ONLY & set(args.scenarios):
        parser.error(f"argument --scenarios: {', '.join(sorted(ONE_NODE_ONLY & set(args.scenarios)))} "
                     "run on one node only: leave them out with --nodes")
    settings = Settings(
        seed=args.seed,
        kills=args.kills,
        conversations=args.conversations,
        warning_seconds=args.warning_seconds,
        disconnect_seconds=args.disconnect_seconds,
        kill_delay=tuple(args.kill_delay),
        pace=Pace(messages=tuple(args.messages), gap=tuple(args.gap)),
        finish_timeout=120.0,
        nodes=args.nodes,
        lease_seconds=args.lease_seconds,
    )
    folder = args.out or REPO / "bench" / "out" / f"crash-{args.seed}"
    scenarios = [s for s in DEFAULT_SCENARIOS if s.name in args.scenarios]
    report = run_crash(settings, folder, scenarios=scenarios, say=lambda line: print(line, flush=True))
    print("\n".join(report.lines()))
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
