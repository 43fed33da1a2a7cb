"""Soak benchmark of the worker service, run by hand: many live conversations relaying for a long time.

    .venv/bin/python bench/soak.py                                  # 5,000 conversations, 10 minutes, 100 messages/s
    .venv/bin/python bench/soak.py --conversations 200 --minutes 1  # a quick look
    .venv/bin/python bench/soak.py --churn 4                        # each chat ends after 4 exchanges, a new one takes its place

The same three processes as bench/load.py (the local Amazon Connect with one
agent who echoes every message, `run.py serve` with SQLite at
synchronous=FULL, and this driver playing the bots over the HTTP API and a
webhook). After every conversation is connected, the driver sends `--rate`
bot messages a second, round robin over the conversations, for `--minutes`;
each is answered by the agent, so twice that many messages are relayed a
second. Every second it reads the service's resident memory and CPU from
/proc. At the end it reads the moment the local Connect took every message
(its unrounded ReceivedAt) and reports, per window of `--window` seconds (by the moment the
bot's message was sent):

- throughput: bot messages sent, agent answers received by the webhook;
- relay latency both ways, p50 / p99 / max: bot->Connect (the bot's POST
  sent to the customer message taken at Connect) and agent->bot (the answer
  taken at Connect to the webhook receiving it), as bench/load.py measures them;
- the service's CPU per relayed message and its share of a core;
- resident memory, and its growth after the warm-up (`--warm-up` seconds of
  the soak, counted in the figures but not in the growth), in all and per
  exchange (a bot message and its answer) sent after the warm-up.
- the 429s the driver was answered (`refused_429`): webhook delivery to it
  was behind the service's limit (delivery/backpressure.py); a 429 is no
  lost message: the driver waits its Retry-After and sends it again, as a
  bot should, so the soak then runs longer than `--minutes`; and how many
  answers came later than 10, 30 and 60 s (`answers_later_than_s`).

With `--churn E`, chats end and are replaced at a steady rate: each chat
ends after E exchanges (the bot leaves: POST .../leave, the service
disconnects and hands it back) and the next message of its slot goes to a
new conversation (transferred first), so `--conversations` chats stay open
and `--rate / E` chats a second end and start. The slots are staggered, so
that the same share of them turns over in every round. What an open chat
holds by design is then bounded: memory must level off, and what still
grows per exchange is kept for good.

It writes the figures as JSON and draws latency, memory and CPU over time
with matplotlib into bench/out/soak-N.png. It exits 1 when messages were
lost or delivered twice, so a broken run cannot pass for figures.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadkit.driver import Api, ConnectAdmin, Sent, paced, transfer_all  # noqa: E402
from bench.loadkit.processes import (  # noqa: E402
    REPO,
    Child,
    create_admin_client,
    create_worker,
    start_connect_local,
    start_service,
)
from bench.loadkit.receiver import Webhook  # noqa: E402
from bench.loadkit.stats import latency  # noqa: E402

OUT = REPO / "bench" / "out"
LATE_SECONDS = (10, 30, 60)  # answers reported as later than these, agent to bot


@dataclass(frozen=True, slots=True)
class Reading:
    """The service at one moment of the soak (seconds since the soak began)."""

    at: float
    rss_bytes: int
    cpu_seconds: float


class Sampler:
    """Reads the service's /proc figures every `interval` seconds on a thread of its own."""

    def __init__(self, service: Child, began: float, interval: float = 1.0) -> None:
        self.readings: list[Reading] = []
        self._service, self._began, self._interval = service, began, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            usage = self._service.usage()
            self.readings.append(Reading(time.monotonic() - self._began, usage.rss_bytes, usage.cpu_seconds))
            if self._stop.wait(self._interval):
                return


def windows(
    sent: list[Sent],
    to_connect: dict[str, float],
    to_bot: dict[str, float],
    readings: list[Reading],
    began_epoch: float,
    seconds: float,
    width: float,
) -> list[dict[str, Any]]:
    """The soak's `seconds` cut into windows of `width` seconds by the moment each bot message was
    sent (one sent late, after the end, counts in the last window; so does the wait for the last
    answers in the CPU of the last window)."""
    count = max(1, math.ceil(seconds / width))
    by_window: list[list[Sent]] = [[] for _ in range(count)]
    for message in sent:
        by_window[min(count - 1, int((message.sent_at - began_epoch) // width))].append(message)
    rows = []
    for index, in_window in enumerate(by_window):
        start, end = index * width, (index + 1) * width if index < count - 1 else math.inf
        inside = [r for r in readings if start <= r.at <= end]
        end = min(end, readings[-1].at)
        cpu, span = cpu_at(readings, end) - cpu_at(readings, start), end - start
        relayed = 2 * len(in_window)
        rows.append(
            {
                "from_s": start,
                "bot_messages": len(in_window),
                "answers_received": sum(1 for m in in_window if m.text in to_bot),
                "bot_to_connect": latency([to_connect[m.text] for m in in_window if m.text in to_connect]),
                "agent_to_bot": latency([to_bot[m.text] for m in in_window if m.text in to_bot]),
                "cpu_share": round(cpu / span, 3) if span else None,
                "cpu_ms_per_message": round(cpu / relayed * 1000, 2) if relayed else None,
                "rss_mb": round(max(r.rss_bytes for r in inside) / 2**20, 1) if inside else None,
            }
        )
    return rows


def cpu_at(readings: list[Reading], at: float) -> float:
    """The service's CPU seconds at `at`, between the two readings around it (read once a second)."""
    after = next((index for index, reading in enumerate(readings) if reading.at >= at), len(readings) - 1)
    if after == 0:
        return readings[0].cpu_seconds
    one, two = readings[after - 1], readings[after]
    if two.at <= one.at:
        return two.cpu_seconds
    share = min(1.0, max(0.0, (at - one.at) / (two.at - one.at)))
    return one.cpu_seconds + share * (two.cpu_seconds - one.cpu_seconds)


def memory_growth(readings: list[Reading], warm_up: float, exchanges: int) -> dict[str, float]:
    """Resident memory at the end of the warm-up against the most it reached after it; `exchanges`:
    how many bot messages were sent after the warm-up (each answered), for the growth per exchange."""
    after = [r for r in readings if r.at >= warm_up]
    base = after[0].rss_bytes
    peak = max(r.rss_bytes for r in after)
    end = after[-1].rss_bytes
    return {
        "after_warm_up_mb": round(base / 2**20, 1),
        "peak_mb": round(peak / 2**20, 1),
        "end_mb": round(end / 2**20, 1),
        "growth_to_peak_pct": round((peak - base) / base * 100, 2),
        "growth_to_end_pct": round((end - base) / base * 100, 2),
        "exchanges_after_warm_up": exchanges,
        "growth_per_exchange_bytes": round((end - base) / exchanges) if exchanges else 0,
    }


def conversation_keys(conversations: int, messages: int, churn: int) -> tuple[list[str], dict[str, str]]:
    """The conversation each message goes to, round robin over `conversations` slots; and, with
    `churn` (exchanges a chat, 0: chats stay open), which conversation each new one replaces. Slot s
    starts a new chat at each round r where (r + s) % churn == 0 (round 0 excepted: every slot starts
    open), so the same share of slots turns over in every round."""
    keys, replaces = [], {}
    for index in range(messages):
        slot, round_ = index % conversations, index // conversations
        generation = (round_ + slot % churn) // churn if churn else 0
        key = f"soak-{slot}" if generation == 0 else f"soak-{slot}-{generation}"
        if generation and (round_ + slot % churn) % churn == 0:
            replaces[key] = keys[index - conversations]
        keys.append(key)
    return keys, replaces


def draw(rows: list[dict[str, Any]], readings: list[Reading], warm_up: float, title: str, path: Path) -> None:
    """Relay latency (p50, p99 each way), resident memory and CPU over time, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [row["from_s"] / 60 for row in rows]
    figure, (lat, mem, cpu) = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
    for key, label, colour in (("bot_to_connect", "bot→Connect", "tab:blue"), ("agent_to_bot", "agent→bot", "tab:orange")):
        lat.plot(minutes, [row[key].get("p50_ms") for row in rows], color=colour, label=f"{label} p50")
        lat.plot(minutes, [row[key].get("p99_ms") for row in rows], color=colour, linestyle="--", label=f"{label} p99")
    lat.set_yscale("log")
    lat.set_ylabel("relay latency (ms, log)")
    lat.legend(loc="upper right", fontsize="small")
    mem.plot([r.at / 60 for r in readings], [r.rss_bytes / 2**20 for r in readings], color="tab:green")
    mem.axvline(warm_up / 60, color="grey", linestyle=":", label="end of warm-up")
    mem.set_ylabel("resident memory (MB)")
    mem.legend(loc="lower right", fontsize="small")
    cpu.plot(minutes, [row["cpu_ms_per_message"] for row in rows], color="tab:red", label="CPU per relayed message (ms)")
    share = cpu.twinx()
    share.plot(minutes, [100 * (row["cpu_share"] or 0) for row in rows], color="tab:purple", alpha=0.6, label="CPU (% of a core)")
    cpu.set_ylabel("CPU ms / message")
    share.set_ylabel("% of a core")
    cpu.set_xlabel("minutes into the soak")
    cpu.legend(loc="upper left", fontsize="small")
    share.legend(loc="upper right", fontsize="small")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def run_name(args: argparse.Namespace) -> str:
    """What the run's files in bench/out/ are called: soak-N, or soak-N-churnE."""
    return f"soak-{args.conversations}" + (f"-churn{args.churn}" if args.churn else "")


def soak(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    name = run_name(args)
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data_dir = (args.data_root or folder) / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    webhook = Webhook().start()
    connect_child, connect = start_connect_local(folder, args.conversations + 100)
    service: Child | None = None
    try:
        worker_id = create_worker(data_dir, connect, args.auto_disconnect)
        token = create_admin_client(data_dir)
        service, ready = start_service(folder, data_dir, connect)
        api, admin = Api(ready["api_url"], token), ConnectAdmin(connect["admin_url"])
        ids = [f"soak-{index}" for index in range(args.conversations)]
        keys, replaces = conversation_keys(len(ids), int(args.rate * args.minutes * 60), args.churn)
        began = time.monotonic()
        transfer_all(api, ids, worker_id, webhook.url)
        if not webhook.wait_count("AgentJoined", len(ids), timeout=120 + len(ids) / 10):
            raise RuntimeError(f"only {webhook.by_type['AgentJoined']} of {len(ids)} agents joined")
        connected_s = time.monotonic() - began
        print(f"{len(ids)} conversations connected in {connected_s:.1f} s; soaking for {args.minutes} min", flush=True)
        soak_began, soak_began_epoch = time.monotonic(), time.time()
        sampler = Sampler(service, soak_began).start()

        to_replace = dict(replaces)
        in_flight: Counter[str] = Counter()  # messages of each conversation not yet accepted
        settled = threading.Condition()

        def say(conversation_id: str, text: str) -> float | None:
            """The message; first, for a new chat, the bot leaves the chat it replaces (once that one's
            messages are accepted: one sent again after a 429 may still be on its way) and transfers it."""
            replaced = to_replace.pop(conversation_id, None)  # its first message only
            with settled:
                in_flight[conversation_id] += 1
            try:
                started = None
                if replaced is not None:
                    with settled:
                        settled.wait_for(lambda: in_flight[replaced] == 0)
                    api.leave(replaced)
                    api.transfer(conversation_id, worker_id, webhook.url)
                    started = time.time()  # its bot→Connect counts from here, and includes the chat's start
                return api.say(conversation_id, text) or started
            finally:
                with settled:
                    in_flight[conversation_id] -= 1
                    settled.notify_all()

        sent = paced(keys, args.rate, say, label="soak")
        replies = {f"You said: {m.text}": m.text for m in sent}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not replies.keys() <= webhook.texts("AgentMessage").keys():
            time.sleep(0.5)
        sampler.stop()
        arrived = webhook.texts("AgentMessage")
        contact_ids = [api.contact_id(cid) for cid in dict.fromkeys(keys)]
        times = admin.message_times(contact_ids)
        to_connect = {m.text: times[("CUSTOMER", m.text)] - m.sent_at for m in sent if ("CUSTOMER", m.text) in times}
        to_bot = {
            text: arrived[reply] - times[("AGENT", reply)]
            for reply, text in replies.items()
            if reply in arrived and ("AGENT", reply) in times
        }
        rows = windows(sent, to_connect, to_bot, sampler.readings, soak_began_epoch, len(keys) / args.rate, args.window)
        readings = sampler.readings
        cpu = readings[-1].cpu_seconds - readings[0].cpu_seconds
        lost = len(sent) - len(to_bot)
        result = {
            "conversations": len(ids),
            "churn_exchanges_per_chat": args.churn,
            "auto_disconnect_s": args.auto_disconnect,
            "chats_ended": len(replaces),
            "rate_per_s": args.rate,
            "minutes": args.minutes,
            "data_root": str(args.data_root or OUT),
            "connected_s": round(connected_s, 1),
            "bot_messages": len(sent),
            "answers_received": len(to_bot),
            "lost": lost,
            "webhook_duplicates": webhook.duplicates,
            "throughput_per_s": round(2 * len(to_bot) / (readings[-1].at - readings[0].at), 1),
            "bot_to_connect": latency(list(to_connect.values())),
            "agent_to_bot": latency(list(to_bot.values())),
            "answers_later_than_s": {
                str(limit): sum(1 for seconds in to_bot.values() if seconds > limit) for limit in LATE_SECONDS
            },
            "refused_429": api.refused,
            "refused_429_wait_s": round(api.refused_wait_s, 1),
            "cpu_ms_per_message": round(cpu / (2 * len(sent)) * 1000, 2),
            "memory": memory_growth(
                readings, args.warm_up, sum(1 for m in sent if m.sent_at - soak_began_epoch >= args.warm_up)
            ),
            "windows": rows,
        }
        picture = OUT / f"{name}.png"
        title = (
            f"{len(ids):,} conversations{f' (each ends after {args.churn} exchanges)' if args.churn else ''}, "
            f"{args.rate:g} bot messages/s each answered, {args.minutes:g} min "
            f"(synchronous=FULL, data on {'tmpfs' if args.data_root else 'disk'})"
        )
        draw(rows, readings, args.warm_up, title, picture)
        result["picture"] = str(picture.relative_to(REPO))
        return result, lost == 0 and webhook.duplicates == 0
    finally:
        if service is not None:
            service.stop()
        connect_child.stop()
        webhook.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0, help="bot messages a second (each answered by the agent)")
    parser.add_argument("--window", type=float, default=30.0, help="seconds per reported window")
    parser.add_argument("--warm-up", type=float, default=60.0, help="seconds of the soak before memory growth is counted")
    parser.add_argument("--data-root", type=Path, help="where the service's data folder goes (default bench/out/)")
    parser.add_argument(
        "--auto-disconnect", type=int, default=0, metavar="S",
        help="the worker's auto-disconnect timers: a WARNING S seconds after each agent message, a DISCONNECT "
        "after 2 S, set again at every answer (default 0: none); S longer than a chat's gap between messages",
    )
    parser.add_argument(
        "--churn", type=int, default=0, metavar="E",
        help="each chat ends after E exchanges and a new one takes its place (default 0: chats stay open)",
    )
    args = parser.parse_args()
    result, clean = soak(args)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{run_name(args)}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=1))
    summary = {key: value for key, value in result.items() if key != "windows"}
    print(json.dumps(summary, indent=1))
    for row in result["windows"]:
        print(
            f"{row['from_s'] / 60:5.1f} min  sent {row['bot_messages']:5d}  answered {row['answers_received']:5d}  "
            f"bot→Connect {row['bot_to_connect'].get('p50_ms')}/{row['bot_to_connect'].get('p99_ms')} ms  "
            f"agent→bot {row['agent_to_bot'].get('p50_ms')}/{row['agent_to_bot'].get('p99_ms')} ms  "
            f"CPU {row['cpu_ms_per_message']} ms/msg  RSS {row['rss_mb']} MB"
        )
    if not clean:
        print(f"lost {result['lost']} answers, {result['webhook_duplicates']} delivered twice", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
