"""What one durable append costs on this disk at the relay's pace: the floor it puts under p99.

    .venv/bin/python bench/append_floor.py                  # 100 a second for 20 s, in bench/out/
    .venv/bin/python bench/append_floor.py --dir /dev/shm   # the same on tmpfs: no disk

Every relayed agent message is one append to the event store (WAL, `synchronous=FULL`: the WAL is
fsynced at each commit) before its webhook POST, so an append's latency is part of agent->bot's. Paced
at `--rate` appends a second, one at a time from one thread other than the main thread (as the
conversations' actors append from the actor pool's threads; the store treats the main thread's
appends apart: store/group_commit.py), each to its own stream, as the conversations' are, interleaved second by second with a bare `write` + `fdatasync` of 4 KB to a file
in the same folder: the disk's own part. Prints p50 / p99 / max of each, in ms, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadkit.stats import latency  # noqa: E402
from store import EventStore, NewEvent  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="appends (and bare fsyncs) a second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--dir", type=Path, default=OUT, help="where the store's file and the bare file go")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    appends: list[float] = []
    fsyncs: list[float] = []
    paced = threading.Thread(target=pace, args=(args, appends, fsyncs), name="appender")
    paced.start()
    paced.join()
    print(json.dumps({"dir": str(args.dir), "rate": args.rate, "append": latency(appends), "write_fdatasync": latency(fsyncs)}))
    return 0


def pace(args: argparse.Namespace, appends: list[float], fsyncs: list[float]) -> None:
    """The paced loop: appends in even seconds, bare write + fdatasync in odd ones, each timed."""
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        bare = os.open(Path(folder) / "bare", os.O_WRONLY | os.O_CREAT)
        block = os.urandom(4096)
        with EventStore.open(Path(folder) / "events.db") as store:
            interval, due, index = 1 / args.rate, time.monotonic(), 0
            end = due + args.seconds
            while due < end:
                time.sleep(max(0.0, due - time.monotonic()))
                began = time.perf_counter()
                if int(due) % 2:
                    os.write(bare, block)
                    os.fdatasync(bare)
                    fsyncs.append(time.perf_counter() - began)
                else:
                    store.append(f"conversation-{index}", [NewEvent("AgentMessageReceived", block[:400])], 0)
                    appends.append(time.perf_counter() - began)
                index += 1
                due += interval
        os.close(bare)


if __name__ == "__main__":
    raise SystemExit(main())
