"""Benchmark of the leases (store/leases.py) beside the appends they fence, on moto's DynamoDB server on
loopback; run by hand.

    .venv/bin/python bench/leases.py                       # 200 conversations, 3 rounds
    .venv/bin/python bench/leases.py --conversations 500 --rounds 5 --lease-seconds 30 --renew-every 10

Per round, on a fresh table holding `--conversations` open streams (one event each), one thread, each
call alone (a node's round trip, no group commit), every part timed per call:

- `append`: a conversation's usual append, two events of 300 bytes to its stream;
- `fenced append`: the same with `fence=` its lease (one more action: the lease's ConditionCheck);
- `take`: `LeaseTable.take` of each conversation's lease (a read, then a conditional put);
- `renew alone`: `LeaseTable.renew([lease])`, one lease per call (one conditional UpdateItem);
- `renew batched`: `LeaseTable.renew(all)`, transactions of 100 leases, per lease (what a node's
  pass does, cluster/node.py, every third of the lease time);
- `read leases`: `LeaseTable.all()`, every lease in one Query, per call (each node's pass reads them
  all to find expired ones, with the open streams' names, when it serves fewer than all).

The parts run in a rotated order each round (moto copies the whole table in each transaction, so a
later part would otherwise always meet a larger table). Moto is not AWS: the figures are ratios to an
append, and the cost of renewing one conversation's lease for a minute at `--renew-every`. The expected
figures on real DynamoDB (capacity units, the per-partition limit, 10,000 live chats) are computed from
the published limits, not measured: `capacity_lines` prints them, bench/README.md explains them.
Output: printed, and JSON in bench/out/leases-<time>.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store.dynamo_event_store import DynamoEventStore  # noqa: E402
from store.leases import RENEWALS_PER_TRANSACTION, Lease, LeaseTable  # noqa: E402
from store.records import NewEvent  # noqa: E402
from tests.support.dynamodb import DUMMY_CREDENTIALS, REGION, fresh_table, moto_server  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
EVENT = NewEvent("AgentMessageReceived", b"x" * 300)
NODE = "bench-node"
PARTS = ("append", "fenced append", "take", "renew alone", "renew batched", "read leases")
# Published DynamoDB figures (bench/README.md): one partition takes at most 1,000 write units a second;
# a transactional write of an item under 1 KB costs 2 write units, a standard one 1.
PARTITION_WCU = 1000
TRANSACTIONAL_WCU = 2
STANDARD_WCU = 1
# A lease item (keys `lease`/`conversation-<id>`, owner, token, expiry) and an open marker, in bytes, about.
PASS_BYTES = 160


def measure(conversations: int, rounds: int, ttl: float) -> dict[str, list[float]]:
    """Seconds per call of each part, one median per round."""
    per_round: dict[str, list[float]] = {part: [] for part in PARTS}
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as scratch:
        for n in range(rounds):
            table = fresh_table(endpoint)
            leases = LeaseTable.open(table, REGION, endpoint_url=endpoint)
            scratch_file = Path(scratch) / f"{n}.db"
            with DynamoEventStore.open(table, REGION, local_path=scratch_file, endpoint_url=endpoint) as log:
                streams = [f"conversation-bench-{i:05d}" for i in range(conversations)]
                for stream in streams:
                    log.append(stream, [EVENT], 0)
                held: dict[str, Lease] = {}
                versions = dict.fromkeys(streams, 1)

                def take() -> list[float]:
                    return _timed(streams, lambda s: held.__setitem__(s, _taken(leases.take(s, NODE, ttl))))

                def append(fenced: bool) -> list[float]:
                    def one(stream: str) -> None:
                        log.append(stream, [EVENT, EVENT], versions[stream], fence=held[stream] if fenced else None)
                        versions[stream] += 2
                    return _timed(streams, one)

                def renew_alone() -> list[float]:
                    def one(stream: str) -> None:
                        [held[stream]], lost = leases.renew([held[stream]], ttl)
                        assert not lost
                    return _timed(streams, one)

                def renew_batched() -> list[float]:
                    began = time.perf_counter()
                    renewed, lost = leases.renew([held[s] for s in streams], ttl)
                    assert not lost
                    held.update({lease.name: lease for lease in renewed})
                    return [(time.perf_counter() - began) / len(streams)]

                def read_leases() -> list[float]:
                    began = time.perf_counter()
                    assert len(leases.all()) == len(streams)
                    return [time.perf_counter() - began]

                runs: dict[str, Callable[[], list[float]]] = {
                    "take": take, "append": lambda: append(False), "fenced append": lambda: append(True),
                    "renew alone": renew_alone, "renew batched": renew_batched, "read leases": read_leases,
                }
                # `take` first: the others need the leases; the rest rotate from round to round.
                rest = [p for p in PARTS if p != "take"]
                order = ["take", *rest[n % len(rest):], *rest[:n % len(rest)]]
                for part in order:
                    per_round[part].append(statistics.median(runs[part]()))
                print(f"round {n + 1}/{rounds}: " + ", ".join(f"{p} {per_round[p][-1] * 1000:.2f} ms" for p in PARTS),
                      flush=True)
    return per_round


def _per(part: str) -> str:
    return "a lease" if part.startswith("renew") else "all the leases" if part == "read leases" else "each"


def _taken(lease: Lease | None) -> Lease:
    assert lease is not None, "a fresh table's lease was held by another node"
    return lease


def _timed(streams: list[str], call: Callable[[str], None]) -> list[float]:
    times = []
    for stream in streams:
        began = time.perf_counter()
        call(stream)
        times.append(time.perf_counter() - began)
    return times


def append_wcu(events: int, fenced: bool) -> int:
    """Write units of a lone append of `events` small events to an open stream (docs/dynamodb-store.md):
    transactional, 2 each for the log's head, the stream's head, two items per event, and the fence's
    ConditionCheck (counted as a transactional write of the lease item)."""
    return TRANSACTIONAL_WCU * (2 + 2 * events + int(fenced))


def capacity_lines(chats: int, lease_seconds: float, renew_every: float) -> list[str]:
    """What `chats` live conversations' renewals would need on real DynamoDB (computed, not measured)."""
    per_second = chats / renew_every
    batched, alone = per_second * TRANSACTIONAL_WCU, per_second * STANDARD_WCU
    per_minute = 60 / renew_every
    return [
        f"real DynamoDB, computed: {chats:,} live chats, lease {lease_seconds:g} s renewed every {renew_every:g} s",
        f"  an append of 2 events: {append_wcu(2, False)} WCU, fenced {append_wcu(2, True)} WCU; a renewal "
        f"{TRANSACTIONAL_WCU} WCU batched, {STANDARD_WCU} alone; a conversation's renewals for a minute: "
        f"{per_minute * TRANSACTIONAL_WCU:g} WCU batched = {per_minute * TRANSACTIONAL_WCU / append_wcu(2, False):.2f} "
        f"appends, {per_minute * STANDARD_WCU:g} WCU alone",
        f"  renewals: {per_second:,.0f} a second ({per_minute:g} per conversation per minute)",
        f"  batched in transactions of {RENEWALS_PER_TRANSACTION}: {batched:,.0f} WCU/s "
        f"({TRANSACTIONAL_WCU} per lease), {per_second / RENEWALS_PER_TRANSACTION:,.0f} transactions a second",
        f"  one UpdateItem each: {alone:,.0f} WCU/s ({STANDARD_WCU} per lease)",
        f"  each node's pass also reads every lease and every open stream's name (about {PASS_BYTES} bytes a "
        f"conversation, strongly consistent: 1 RCU per 4 KB): {chats * PASS_BYTES / 4096:,.0f} RCU a pass, "
        f"{chats * PASS_BYTES / 4096 / renew_every:,.0f} RCU/s per node",
        f"  every lease item under the one partition key 'lease': at most {PARTITION_WCU:,} WCU/s, so at most "
        f"{PARTITION_WCU / TRANSACTIONAL_WCU * renew_every:,.0f} chats batched, "
        f"{PARTITION_WCU / STANDARD_WCU * renew_every:,.0f} one by one, at this renewal interval",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lease-seconds", type=float, default=30.0)
    parser.add_argument("--renew-every", type=float, help="seconds between a lease's renewals (default: a third "
                        "of the lease, as cluster/node.py renews)")
    parser.add_argument("--chats", type=int, default=10_000, help="live chats for the real-DynamoDB figures")
    args = parser.parse_args()
    args.renew_every = args.renew_every or args.lease_seconds / 3
    os.environ.update(DUMMY_CREDENTIALS)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} at the start",
          flush=True)
    per_round = measure(args.conversations, args.rounds, args.lease_seconds)
    medians = {part: statistics.median(values) for part, values in per_round.items()}
    append = medians["append"]
    per_minute = 60 / args.renew_every
    lines = [f"moto, {args.conversations} conversations, {args.rounds} rounds (median of the rounds' medians):"]
    lines += [f"  {part:14} {medians[part] * 1000:7.2f} ms a call ({_per(part)}), "
              f"{medians[part] / append:5.2f} x an append" for part in PARTS]
    lines += [
        f"  a conversation's renewals for a minute ({per_minute:g}): batched "
        f"{per_minute * medians['renew batched'] * 1000:.2f} ms = {per_minute * medians['renew batched'] / append:.2f} "
        f"appends; alone {per_minute * medians['renew alone'] * 1000:.2f} ms = "
        f"{per_minute * medians['renew alone'] / append:.2f} appends",
        *capacity_lines(args.chats, args.lease_seconds, args.renew_every),
        f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} at the end",
    ]
    print("\n".join(lines))
    OUT.mkdir(exist_ok=True)
    path = OUT / f"leases-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"arguments": vars(args), "seconds_per_call": per_round, "lines": lines}, indent=1))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
