"""How long a thread woken by I/O waits for the GIL while another thread runs Python, by switch interval.

    .venv/bin/python bench/switch_wait.py                       # 0.005 (CPython's default) and 0.0005, 10 s each
    .venv/bin/python bench/switch_wait.py --intervals 0.005 0.001 0.0005 --seconds 5

One thread runs pure Python without a pause (as the API's event loop parsing a request, or an actor
encoding a call, does for a while); another sleeps 10 ms at a time (a blocking call: the GIL let go)
and measures by how much each sleep overran: the time it waited, once woken, for the GIL. The busy
thread's loops a second show what the more frequent forced switches cost it. Per interval: p50 / p99 /
max of the overrun in ms, the busy loops a second, and the process's CPU seconds, as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadkit.stats import latency  # noqa: E402

NAP = 0.010


def measure(interval: float, seconds: float) -> dict[str, object]:
    sys.setswitchinterval(interval)
    stop = threading.Event()
    loops = [0]

    def busy() -> None:
        total = 0
        while not stop.is_set():
            for number in range(1000):
                total += number * number
            loops[0] += 1

    overruns: list[float] = []
    spinning = threading.Thread(target=busy, name="busy")
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    spinning.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.perf_counter()
        time.sleep(NAP)
        overruns.append(time.perf_counter() - began - NAP)
    stop.set()
    spinning.join()
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage_after.ru_utime - usage_before.ru_utime) + (usage_after.ru_stime - usage_before.ru_stime)
    return {
        "switch_interval_ms": interval * 1000,
        "overrun": latency(overruns),
        "busy_loops_per_s": round(loops[0] / seconds),
        "cpu_s": round(cpu, 2),
        "voluntary_switches": usage_after.ru_nvcsw - usage_before.ru_nvcsw,
        "involuntary_switches": usage_after.ru_nivcsw - usage_before.ru_nivcsw,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intervals", type=float, nargs="+", default=[0.005, 0.0005], help="switch intervals, s")
    parser.add_argument("--seconds", type=float, default=10.0, help="per interval")
    args = parser.parse_args()
    for interval in args.intervals:
        print(json.dumps(measure(interval, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
