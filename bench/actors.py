"""Actors on threads of their own (pykka's ThreadingActor) against actors on the shared pool
(actors/pooled.py): start, threads, memory and stop of N idle actors; and what a full pool does.

    .venv/bin/python bench/actors.py                       # 5,000 and 10,000 actors, each kind, 3 rounds
    .venv/bin/python bench/actors.py --sizes 5000 --rounds 1
    .venv/bin/python bench/actors.py --cap                  # only the full pool

Each measurement runs in a process of its own (`one` below), so threads and memory are its own.
No Connect, no store: this is the cost of the actors' threads alone, not of a conversation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pykka  # noqa: E402

from actors.pooled import PooledActor  # noqa: E402
from threads.task_pool import TaskPool  # noqa: E402


class Threaded(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        if isinstance(message, float):
            threading.Event().wait(message)  # a slow call (a translator that takes its time)
        return message


class Pooled(PooledActor):
    def on_receive(self, message: Any) -> Any:
        if isinstance(message, float):
            threading.Event().wait(message)
        return message


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maps() -> int:
    with open("/proc/self/maps") as maps:
        return sum(1 for _ in maps)


def one(kind: str, size: int) -> dict[str, Any]:
    """Start `size` actors, ask each once, then stop them all as RegionSupervisor.stop does."""
    cls = Threaded if kind == "threads" else Pooled
    rss_before = _rss_mb()
    began = time.monotonic()
    refs = [cls.start() for _ in range(size)]
    started = time.monotonic() - began
    began = time.monotonic()
    for future in [ref.ask(n, block=False) for n, ref in enumerate(refs)]:
        future.get(timeout=60)
    asked = time.monotonic() - began
    result = {
        "kind": kind,
        "actors": size,
        "start_s": round(started, 2),
        "ask_each_s": round(asked, 2),
        "threads": threading.active_count(),
        "memory_maps": _maps(),
        "rss_mb_above_before": round(_rss_mb() - rss_before, 1),
    }
    began = time.monotonic()
    for future in [ref.stop(block=False) for ref in refs]:
        future.get(timeout=60)
    result["stop_s"] = round(time.monotonic() - began, 2)
    return result


def cap(threads: int, slow: int, seconds: float) -> dict[str, Any]:
    """A pool of `threads` threads, `slow` actors each in a call of `seconds`: how long one more actor's
    ask waits for its answer."""
    pool = TaskPool(max_threads=threads, idle_seconds=30.0, name="bench")
    Pooled.actor_pool = pool
    refs = [Pooled.start() for _ in range(slow + 1)]
    for ref in refs:
        ref.ask(0)  # each started and answering
    slow_answers = [ref.ask(seconds, block=False) for ref in refs[:slow]]
    began = time.monotonic()
    refs[-1].ask("quick", timeout=120)
    waited = time.monotonic() - began
    for future in slow_answers:
        future.get(timeout=120)
    for ref in refs:
        ref.stop()
    return {"pool_threads": threads, "slow_actors": slow, "slow_call_s": seconds, "quick_ask_s": round(waited, 3)}


def _child(arguments: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, *arguments], check=True, capture_output=True, text=True, cwd=REPO)
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cap", action="store_true", help="only the full pool")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--cap-one", nargs=3, type=float, metavar=("THREADS", "SLOW", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return 0
    if args.cap_one:
        print(json.dumps(cap(int(args.cap_one[0]), int(args.cap_one[1]), args.cap_one[2])))
        return 0
    results = []
    if not args.cap:
        for round_ in range(args.rounds):
            for size in args.sizes:
                for kind in ("threads", "pool"):  # interleaved, each round
                    result = _child(["--one", kind, str(size)])
                    result["round"], result["load_average"] = round_, os.getloadavg()[0]
                    print(json.dumps(result), flush=True)
                    results.append(result)
    for threads, slow in ((64, 32), (64, 64), (64, 128)):
        result = _child(["--cap-one", str(threads), str(slow), "1.0"])
        result["load_average"] = os.getloadavg()[0]
        print(json.dumps(result), flush=True)
        results.append(result)
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "actors.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
