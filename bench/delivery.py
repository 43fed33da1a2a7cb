"""The webhook deliverer alone, run by hand: how long an agent's message takes from its COMMIT to its
POST, what CPU the process spends, and how many store reads the deliverer makes for it.

    .venv/bin/python bench/delivery.py --conversations 1000 --rate 200 --seconds 15

One process: an event store in a temporary folder, `--conversations` conversations with a webhook
(connected, an agent joined), a `WebhookDeliverer` with its defaults, and a keep-alive receiver on
127.0.0.1. Once every `AgentJoined` has arrived, 32 threads append one agent message at a time,
`--rate` a second round robin over the conversations, for `--seconds`. Reported: the latency from
each message's `recorded_at` (its batch's start, so the commit is in it) to its POST's arrival, p50 and
p99; the process's CPU per message (the appends and the receiver are in it too: compare runs, not
with bench/load.py); and the deliverer threads' reads of a stream (`read_stream`) and of the log
(`read_all`). Run it from a checkout to measure that checkout's code (bench/README.md, "Agent to bot
without the tail's round trip").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from delivery import WebhookDeliverer  # noqa: E402
from events import encode, event_type  # noqa: E402
from store import EventStore, NewEvent, StoredEvent  # noqa: E402
from store.conversations import conversation_stream  # noqa: E402
from tests.delivery.conversations import started  # noqa: E402
from tests.events.scenario import Run  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks specification's test key


class CountingStore(EventStore):
    """Counts the reads the deliverer's threads make."""

    reads: dict[str, int]

    def read_stream(self, stream: str, **options: Any) -> list[StoredEvent]:
        self._count("stream")
        return super().read_stream(stream, **options)

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        self._count("log")
        return super().read_all(after_position, limit)

    def _count(self, what: str) -> None:
        if threading.current_thread().name.startswith("delivery-"):
            self.reads[what] += 1


def receiver(arrivals: dict[str, float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            arrivals[json.loads(body)["Id"]] = time.time()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def measure(conversations: int, rate: float, seconds: float) -> dict[str, Any]:
    arrivals: dict[str, float] = {}
    server = receiver(arrivals)
    url = f"http://127.0.0.1:{server.server_address[1]}/bot"
    store = CountingStore.open(Path(tempfile.mkdtemp()) / "events.db")
    assert isinstance(store, CountingStore)
    store.reads = {"stream": 0, "log": 0}
    runs: list[Run] = []
    for index in range(conversations):
        run = started(f"c{index}", f"{url}/c{index}", client_id="bench")
        run.with_agent("Ana", at=2.0)
        runs.append(run)
        store.append(conversation_stream(f"c{index}"), [NewEvent(event_type(e), encode(e)) for e in run.events], 0)
    deliverer = WebhookDeliverer(store, signing_secret=lambda client_id: SECRET)
    deliverer.start()
    wait_for(lambda: len(arrivals) >= conversations, 120)
    arrivals.clear()
    store.reads.update(stream=0, log=0)
    locks = [threading.Lock() for _ in runs]
    total = int(rate * seconds)
    began, cpu_before = time.monotonic(), time.process_time()

    def say(index: int) -> None:
        delay = began + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        with locks[index % conversations]:
            run = runs[index % conversations]
            version = len(run.events)
            run.agent_says(f"m{index}", at=3.0 + index, message_id=f"m-{index}")
            new = [NewEvent(event_type(e), encode(e)) for e in run.events[version:]]
            store.append(conversation_stream(run.state.conversation_id), new, version)

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(say, range(total)))
    wait_for(lambda: len(arrivals) >= total, 60)
    cpu = time.process_time() - cpu_before
    latencies = sorted(
        (arrivals[key] - event.recorded_at) * 1000
        for event in store.read_all(0, 10**7)
        if event.type == "AgentMessageReceived"
        and (key := f"{event.stream.removeprefix('conversation-')}:{event.seq}") in arrivals
    )
    deliverer.stop()
    store.close()
    server.shutdown()
    server.server_close()

    def at(share: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(share * len(latencies)))], 2)

    return {
        "conversations": conversations, "messages": total, "arrived": len(latencies), "p50_ms": at(0.5),
        "p99_ms": at(0.99), "cpu_ms_per_message": round(cpu / total * 1000, 3),
        "stream_reads": store.reads["stream"], "log_reads": store.reads["log"],
        "load_average": round(os.getloadavg()[0], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="agent messages a second")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    result = measure(args.conversations, args.rate, args.seconds)
    print(json.dumps(result), flush=True)
    return 0 if result["arrived"] == result["messages"] else 1


if __name__ == "__main__":
    sys.exit(main())
