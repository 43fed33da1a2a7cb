"""Load benchmark of the worker service, run by hand; it prints its figures and writes them as JSON.

    .venv/bin/python bench/load.py                                  # 100, 1,000, 5,000, then 10,000 held
    .venv/bin/python bench/load.py --sizes 100 --scale 0 --recovery # a quick run
    .venv/bin/python bench/load.py --sizes --recovery 1000 --scale 0  # recovery at 1,000 only

Three processes, so that the service's cost is its own: the local Amazon
Connect (`run.py connect-local`), the service (`run.py serve`, SQLite with
synchronous=FULL; its worker and an admin API client for the bots made
beforehand with `run.py worker create` and `run.py client create --admin`),
and this driver, which plays the bots (HTTP API with that client's token, a
webhook) and runs the bare baselines. For each size N it measures:

- resident memory and threads of the service with N conversations connected
  (each with its agent joined), and its idle CPU;
- relay latency at a steady rate both ways: a bot's POST sent -> the
  customer message taken at Connect; the agent reply taken at Connect ->
  the bot's webhook receiving it (Connect's moments are the local Connect's
  unrounded ReceivedAt, not the millisecond AbsoluteTime); CPU per message;
- the same latencies with bare boto3 SendMessage and a bare websocket-client
  receive on chats of their own, at the same rate, against the same Connect;
- resident memory of a bare websocket-client connection, in a process of its own;
- recovery after SIGKILL (`--recovery` sizes): from the restart until every
  live conversation has a new ConnectionOpened, against N bare
  CreateParticipantConnection + GetTranscript calls, 50 at a time. A
  `--recovery` size that is not among `--sizes` is run for its recovery alone
  (the N conversations transferred and joined, no relay, no bare relay).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadkit import bare  # noqa: E402
from bench.loadkit.driver import Api, ConnectAdmin, paced, transfer_all  # noqa: E402
from bench.loadkit.processes import (  # noqa: E402
    REPO,
    Child,
    allow_open_files,
    create_admin_client,
    create_worker,
    start_connect_local,
    start_service,
)
from bench.loadkit.receiver import Webhook  # noqa: E402
from bench.loadkit.stats import latency  # noqa: E402

OUT = REPO / "bench" / "out"
BARE_CHATS = 100
# Sent at the same rate before each measured phase, not counted: the first messages
# of a run also pay for connection pools and worker threads that a running service has.
WARM_UP_SECONDS = 3.0
# How long a SIGTERM may take before the service is killed (stopping 10,000 actor threads took over a minute).
STOP_TIMEOUT = 300.0


def store_position(store_path: Path) -> int:
    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as db:
        return db.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()[0]


def reconnected(store_path: Path, after: int) -> int:
    """How many conversations have had a ConnectionOpened since position `after`."""
    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as db:
        query = "SELECT COUNT(DISTINCT stream) FROM events WHERE position > ? AND type = 'ConnectionOpened'"
        return db.execute(query, (after,)).fetchone()[0]


def opened_count(store_path: Path) -> int:
    """Every ConnectionOpened in the log, reconnections included."""
    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE type = 'ConnectionOpened'").fetchone()[0]


def transfer_in_windows(api: Api, ids: list[str], worker_id: str, webhook: Webhook, window: int) -> float:
    """Transfer `window` conversations at a time, each window once every agent of the one before the last
    has joined: at most two windows connecting at once, as bots arriving at a rate the service absorbs.
    All at once, 19,500 collapsed (bench/README.md): thousands of actor threads in StartChatContact
    together. Returns the seconds until the last window was accepted."""
    joined_before, began = webhook.by_type["AgentJoined"], time.monotonic()
    for start in range(0, len(ids), window):
        if not webhook.wait_count("AgentJoined", joined_before + max(0, start - window), timeout=600):
            raise RuntimeError(f"only {webhook.by_type['AgentJoined'] - joined_before} of {start - window} agents joined")
        transfer_all(api, ids[start : start + window], worker_id, webhook.url)
    return time.monotonic() - began


def relay(
    service: Child, api: Api, admin: ConnectAdmin, webhook: Webhook, ids: list[str], rate: float, seconds: float
) -> dict[str, Any]:
    """Messages at `rate` for `seconds`, round robin over `ids`: the latencies both ways, and the
    service's CPU from the first message to the last answer at the webhook."""
    warm = [ids[-1 - index % len(ids)] for index in range(int(rate * WARM_UP_SECONDS))]
    paced(warm, rate, api.say, label="warm-up")
    keys = [ids[index % len(ids)] for index in range(int(rate * seconds))]
    before, began = service.usage(), time.monotonic()
    sent = paced(keys, rate, api.say, label="measured")
    replies = {f"You said: {message.text}" for message in sent}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not replies <= webhook.texts("AgentMessage").keys():
        time.sleep(0.05)
    after, window = service.usage(), time.monotonic() - began
    arrived = webhook.texts("AgentMessage")
    times = admin.message_times([api.contact_id(cid) for cid in sorted(set(keys))])
    to_connect = [times[("CUSTOMER", m.text)] - m.sent_at for m in sent if ("CUSTOMER", m.text) in times]
    accepted_to_connect = [times[("CUSTOMER", m.text)] - m.accepted_at for m in sent if ("CUSTOMER", m.text) in times]
    to_bot = [arrived[reply] - times[("AGENT", reply)] for reply in replies if reply in arrived and ("AGENT", reply) in times]
    return {
        "messages": len(sent),
        "replies_received": len(replies & arrived.keys()),
        "bot_to_connect": latency(to_connect),
        "accepted_to_connect": latency(accepted_to_connect),
        "agent_to_bot": latency(to_bot),
        "api_accept": latency([m.accepted_at - m.sent_at for m in sent]),
        "service_cpu_s": after.cpu_seconds - before.cpu_seconds,
        "window_s": window,
    }


def bare_relay(connect_ready: Path, webhook: Webhook, rate: float, seconds: float) -> dict[str, Any]:
    """The same traffic done bare on chats of its own, in a process of its own (as the service is):
    boto3 SendMessage, websocket-client reading the replies, a urllib3 POST of each to the webhook;
    its latencies and its CPU per relayed message (bench/loadkit/bare.py `relay`). Besides the bare
    receive (`agent_to_client`, the target's baseline), `agent_to_webhook`: Connect's time of each
    answer to its bare POST reaching the webhook the service posts to, the same work as the service's
    agent->bot without the actor, the durable append and the deliverer."""
    command = [
        sys.executable, str(Path(__file__).resolve()), "bare-relay", "--connect-ready", str(connect_ready),
        "--webhook-url", webhook.url, "--rate", str(rate), "--seconds", str(seconds),
    ]
    answer = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    measured = json.loads(answer.stdout.strip().splitlines()[-1])
    posted = webhook.texts(bare.BARE_ANSWER_TYPE)
    agent_times = measured.pop("agent_times")
    measured["agent_to_webhook"] = [posted[text] - at for text, at in agent_times.items() if text in posted]
    for key in ("send_to_connect", "agent_to_client", "agent_to_webhook", "send_call"):
        measured[key] = latency(measured[key])
    return measured


def bare_memory(connect_ready: Path, count: int) -> dict[str, float]:
    """Resident bytes per bare websocket-client connection, measured in a process of its own."""
    answer = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "bare-memory", "--connect-ready", str(connect_ready), "--count", str(count)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def summary(size: int, result: dict[str, Any]) -> str:
    """The relay's figures of one size in a few lines, beside the bare ones."""
    ours, bare_run, ratios = result["relay"], result["bare"], result["ratios"]

    def pair(figures: dict[str, float]) -> str:
        return f"{figures['p50_ms']} / {figures['p99_ms']} ms"

    return "\n".join(
        [
            f"N={size}: bot->Connect {pair(ours['bot_to_connect'])}, bare SendMessage {pair(bare_run['send_to_connect'])}, p99 ratio {ratios['bot_to_connect_p99']}",
            f"N={size}: agent->bot {pair(ours['agent_to_bot'])}, bare receive {pair(bare_run['agent_to_client'])}, p99 ratio {ratios['agent_to_bot_p99']};"
            f" bare receive and POST {pair(bare_run['agent_to_webhook'])}, p99 ratio {ratios['agent_to_bot_p99_vs_receive_and_post']}",
            f"N={size}: CPU per relayed message {ours['cpu_ms_per_message']} ms ({ours['cpu_ms_per_message_net_of_idle']} net of idle),"
            f" bare {bare_run['cpu_ms_per_message']} ms, ratio {ratios['cpu_per_message']} ({ratios['cpu_per_message_net_of_idle']} net)",
            f"N={size}: 429s waited out: {result['refused_429']} transfers, {ours['refused_429']} messages",
        ]
    )


def run_size(
    size: int, args: argparse.Namespace, webhook: Webhook, *, recovery: bool, steady: bool, windowed: bool = True
) -> dict[str, Any]:
    """One size: `steady`, the relay phase and its bare baseline; `windowed`, transfers `--scale-window`
    at a time when not steady (the held run); `recovery`, SIGKILL and recovery at the end."""
    folder = OUT / f"load-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data_dir = (args.data_root or folder) / f"data-{size}"
    shutil.rmtree(data_dir, ignore_errors=True)
    memory_count = min(size, 1000)
    # Sockets each of the service and the local Connect holds at most (N, and the bare relay's chats at
    # Connect), with room for connection pools and files.
    open_files = allow_open_files(size + BARE_CHATS + 2048)
    connect_child, connect = start_connect_local(folder, size + BARE_CHATS + memory_count + 100)
    service: Child | None = None
    try:
        worker_id = create_worker(data_dir, connect)
        token = create_admin_client(data_dir)
        service, ready = start_service(folder, data_dir, connect)
        store_path = Path(ready["store_path"])
        api = Api(ready["api_url"], token)
        admin = ConnectAdmin(connect["admin_url"])
        # Before the transfers, so that its sockets are not held at Connect on top of the service's N.
        bare_socket = bare_memory(folder / "connect-local.ready.json", memory_count)
        time.sleep(1.0)
        idle = service.usage()
        ids = [f"load-{size}-{index}" for index in range(size)]
        joined_before = webhook.by_type["AgentJoined"]
        began = time.monotonic()
        if steady or not windowed or not args.scale_window:
            accept_seconds = transfer_all(api, ids, worker_id, webhook.url)
        else:
            accept_seconds = transfer_in_windows(api, ids, worker_id, webhook, args.scale_window)
        if not webhook.wait_count("AgentJoined", joined_before + size, timeout=120 + size / 10):
            raise RuntimeError(f"only {webhook.by_type['AgentJoined'] - joined_before} of {size} agents joined")
        connected_seconds = time.monotonic() - began
        time.sleep(5.0)
        quiet_start = service.usage()
        time.sleep(10.0)
        quiet_end = service.usage()
        result: dict[str, Any] = {
            "conversations": size,
            "transfers_accepted_s": round(accept_seconds, 1),
            "all_connected_s": round(connected_seconds, 1),
            "service_rss_mb": round(quiet_end.rss_bytes / 2**20, 1),
            "service_rss_per_conversation_kb": round((quiet_end.rss_bytes - idle.rss_bytes) / size / 1024, 1),
            "service_threads": quiet_end.threads,
            "service_idle_cpu_share": round((quiet_end.cpu_seconds - quiet_start.cpu_seconds) / 10.0, 3),
            # N when no socket ever reconnected; each retry is a WARNING line in the service's log.
            "connection_opened": opened_count(store_path),
            "chat_socket_retries": (folder / "service.log").read_text(errors="replace").count("chat socket retry"),
            "open_files_hard_limit": open_files,
            "transfer_window": None if steady else args.scale_window,
            "bare_socket_memory": bare_socket,
            "refused_429": api.refused,  # transfers sent again after Retry-After: delivery was behind
        }
        bare_kb = result["bare_socket_memory"]["socket_and_thread_bytes"] / 1024
        result["rss_above_bare_socket_kb"] = round(result["service_rss_per_conversation_kb"] - bare_kb, 1)
        if steady:
            relayed = relay(service, api, admin, webhook, ids, args.rate, args.seconds)
            cpu, window = relayed.pop("service_cpu_s"), relayed.pop("window_s")
            idle_share = result["service_idle_cpu_share"]
            # Each message is relayed twice: the bot's to Connect, the agent's answer to the bot.
            messages = 2 * relayed["messages"]
            relayed["cpu_ms_per_message"] = round(cpu / messages * 1000, 2)
            relayed["cpu_ms_per_message_net_of_idle"] = round((cpu - idle_share * window) / messages * 1000, 2)
            relayed["refused_429"] = api.refused - result["refused_429"]  # messages sent again after Retry-After
            result["relay"] = relayed
            bare_cpu = result["bare"] = bare_relay(folder / "connect-local.ready.json", webhook, args.rate, args.seconds)
            result["ratios"] = {
                "bot_to_connect_p99": round(relayed["bot_to_connect"]["p99_ms"] / bare_cpu["send_to_connect"]["p99_ms"], 2),
                "agent_to_bot_p99": round(relayed["agent_to_bot"]["p99_ms"] / bare_cpu["agent_to_client"]["p99_ms"], 2),
                "agent_to_bot_p99_vs_receive_and_post": round(
                    relayed["agent_to_bot"]["p99_ms"] / bare_cpu["agent_to_webhook"]["p99_ms"], 2
                ),
                "cpu_per_message": round(relayed["cpu_ms_per_message"] / bare_cpu["cpu_ms_per_message"], 2),
                "cpu_per_message_net_of_idle": round(relayed["cpu_ms_per_message_net_of_idle"] / bare_cpu["cpu_ms_per_message"], 2),
            }
            print(summary(size, result), flush=True)
        if recovery:
            result["recovery"] = recover(
                service, connect_child, folder, data_dir, store_path, connect, size, latency=args.recovery_latency
            )
            service = result["recovery"].pop("service")
        # SIGTERM to exit with the N conversations open (after a recovery, the restarted service's).
        stopped_in = service.stop(timeout=STOP_TIMEOUT)
        service = None
        result["service_stop_s"] = None if stopped_in is None else round(stopped_in, 2)
        print(f"N={size}: service stopped in {result['service_stop_s']} s (None: killed after {STOP_TIMEOUT:.0f} s)", flush=True)
        return result
    finally:
        if service is not None:
            service.stop()
        connect_child.stop()


def recover(
    service: Child,
    connect_child: Child,
    folder: Path,
    data_dir: Path,
    store_path: Path,
    connect: dict[str, Any],
    size: int,
    *,
    latency: float = 0.0,
) -> dict[str, Any]:
    """SIGKILL the service, start it again, and time it until every conversation is connected again.
    The local Connect's CPU over the recovery and over the bare calls says how much of each is its work
    (both run on the same cores). `latency`: seconds added to each REST call at Connect, over the
    recovery and the bare calls alike."""
    admin = ConnectAdmin(connect["admin_url"])
    admin.set_latency(latency)
    service.kill()
    position = store_position(store_path)
    connect_began_cpu = connect_child.usage().cpu_seconds
    began = time.monotonic()
    restarted, _ = start_service(folder, data_dir, connect, attempt=1)
    ready_seconds = time.monotonic() - began
    ready_cpu = restarted.usage().cpu_seconds
    deadline = began + 300 + size / 5
    while (count := reconnected(store_path, position)) < size:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {count} of {size} conversations reconnected")
        time.sleep(0.1)
    resumed_seconds = time.monotonic() - began
    resumed_cpu = restarted.usage().cpu_seconds
    connect_recovery_cpu = connect_child.usage().cpu_seconds - connect_began_cpu
    tokens = bare.participant_tokens(store_path)
    bare_began_cpu = time.process_time()  # this driver's, whose webhook is idle meanwhile
    connect_bare_began_cpu = connect_child.usage().cpu_seconds
    bare_seconds = bare.connect_and_fill(connect, tokens)
    bare_cpu = time.process_time() - bare_began_cpu
    connect_bare_cpu = connect_child.usage().cpu_seconds - connect_bare_began_cpu
    admin.set_latency(0)
    return {
        "service": restarted,
        "connect_latency_s": latency,
        "api_ready_s": round(ready_seconds, 2),
        "all_reconnected_s": round(resumed_seconds, 2),
        "bare_connect_and_transcript_s": round(bare_seconds, 2),
        "ratio": round(resumed_seconds / bare_seconds, 2),
        # CPU seconds of the restarted service from its start (imports included), at the ready file and
        # once all reconnected, and of the bare calls: less noisy than wall time on a shared machine.
        "service_cpu_at_ready_s": round(ready_cpu, 2),
        "service_cpu_all_reconnected_s": round(resumed_cpu, 2),
        "bare_cpu_s": round(bare_cpu, 2),
        "cpu_ratio": round(resumed_cpu / bare_cpu, 2),
        # The local Connect's, over the recovery (CreateParticipantConnection, the socket's handshake and
        # subscription, GetTranscript) and over the bare calls (CreateParticipantConnection and GetTranscript).
        "connect_cpu_recovery_s": round(connect_recovery_cpu, 2),
        "connect_cpu_bare_s": round(connect_bare_cpu, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="part")
    memory = sub.add_parser("bare-memory", help="(internal) resident bytes per bare websocket-client connection")
    memory.add_argument("--connect-ready", type=Path, required=True)
    memory.add_argument("--count", type=int, required=True)
    bare_part = sub.add_parser("bare-relay", help="(internal) the relay done bare: latencies and CPU per message")
    bare_part.add_argument("--connect-ready", type=Path, required=True)
    bare_part.add_argument("--webhook-url", required=True)
    bare_part.add_argument("--rate", type=float, required=True)
    bare_part.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 5000], help="conversations per measured run")
    parser.add_argument(
        "--recovery",
        type=int,
        nargs="*",
        help="sizes whose run ends with a SIGKILL and recovery (default: 1000 and 5000 of --sizes); one not in --sizes is run"
        " for its recovery alone",
    )
    parser.add_argument("--scale", type=int, default=10000, help="conversations held at once in a last run (0: none)")
    parser.add_argument(
        "--scale-window", type=int, default=250, help="the held run's transfers, this many at a time (0: all at once)"
    )
    parser.add_argument("--rate", type=float, default=50.0, help="bot messages a second in the steady phase (each answered)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady phase")
    parser.add_argument(
        "--recovery-latency",
        type=float,
        default=0.0,
        help="seconds the local Connect adds to every REST call during the recovery and its bare calls alike (a real"
        " region's round trip: 0.02-0.08); 0, none",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        help="where the service's data folders go (default bench/out/); /dev/shm takes the disk's fsync out of the figures",
    )
    args = parser.parse_args()
    recovery_alone = [] if args.recovery is None else [size for size in args.recovery if size not in args.sizes]
    if args.recovery is None:
        args.recovery = [1000, 5000]
    if args.part == "bare-memory":
        print(json.dumps(bare.memory_per_socket(json.loads(args.connect_ready.read_text()), args.count)))
        return 0
    if args.part == "bare-relay":
        connect = json.loads(args.connect_ready.read_text())
        print(json.dumps(bare.relay(connect, args.webhook_url, BARE_CHATS, args.rate, args.seconds, WARM_UP_SECONDS)))
        return 0
    webhook = Webhook().start()
    results: dict[str, Any] = {
        "rate_per_s": args.rate,
        "steady_seconds": args.seconds,
        "data_root": str(args.data_root or OUT),
        "runs": [],
    }
    try:
        for size in args.sizes:
            run = run_size(size, args, webhook, recovery=size in args.recovery, steady=True)
            results["runs"].append(run)
            print(json.dumps(run, indent=1), flush=True)
        for size in recovery_alone:
            run = run_size(size, args, webhook, recovery=True, steady=False, windowed=False)
            results["runs"].append(run)
            print(json.dumps(run, indent=1), flush=True)
        if args.scale:
            run = run_size(args.scale, args, webhook, recovery=False, steady=False)
            results["scale"] = run
            print(json.dumps(run, indent=1), flush=True)
    finally:
        webhook.stop()
        results["webhook_duplicates"] = webhook.duplicates
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
