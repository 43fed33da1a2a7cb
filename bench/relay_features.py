"""What translation and short links add to a message's relay latency, run by hand; it prints its
figures and writes them as JSON.

    .venv/bin/python bench/relay_features.py                         # 300 messages a case, about 70 s
    .venv/bin/python bench/relay_features.py --messages 40 --warm-up 3   # a quick look, about 15 s
    .venv/bin/python bench/relay_features.py --data-root DIR         # DIR on tmpfs: the disk's fsync out

Three processes, as in bench/load.py: the local Amazon Connect (`run.py connect-local`, one queue
with no simulated agent), the service (`run.py serve`, its connectors' Translate calls sent to the
local Connect), and this driver, which plays the bots (HTTP API, a webhook), the human agent (the
local Connect's agent API) and the short-link API (a tiny HTTP server on loopback). Five workers,
made with `run.py connector create`, `secret put` and `worker create` as an operator does: no feature,
egress translation, short links, both, ingress translation. Eight cases, interleaved message by
message at one steady rate, so that every case meets the same machine at the same moments:

- agent -> bot, from the agent message's AbsoluteTime at Connect (the agent API's answer) to the
  webhook receiving it: no egress feature (the baseline), egress translation, short links (two
  links a message), both;
- bot -> agent, from the bot's POST being sent to the moment Connect took the customer message (the
  admin record's ReceivedAt): no feature (the baseline), ingress translation;
- the bare round trip of each API a feature calls: one TranslateText (boto3 with the service's
  connector configuration, to the local Connect) and one shortener POST (`net.post`, the service's
  own HTTP client on its kept-alive connections, to the same tiny server), each from the call to its answer.

The added latency of a feature is its case's p50 (p99) minus the baseline's p50 (p99), reported
next to the round trip of its API. Every message of a feature case is checked to have been
translated or shortened; those that were not are counted, and the bench then exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3  # noqa: E402

from bench.load import latency  # noqa: E402
from bench.loadkit.driver import Api, ConnectAdmin, JsonClient, Sent, connect_time, paced  # noqa: E402
from bench.loadkit.processes import REPO, Child, connect_local_config, create_admin_client  # noqa: E402
from bench.loadkit.receiver import Webhook  # noqa: E402
from bench.loadkit.shortener import Shortener  # noqa: E402
from net import post  # noqa: E402
from service.connector_runner import CONVERSATION_CONFIG  # noqa: E402

OUT = REPO / "bench" / "out"
KEY_REF = "srn:vault::bench:secret:squeeze"
KEY = "bench-squeeze-key"
EGRESS = {"ConnectorAlias": "EgressTranslateBaas", "SourceLanguageCode": "en", "TargetLanguageCode": "es"}
INGRESS = {"ConnectorAlias": "IngressTranslateBaas", "SourceLanguageCode": "es", "TargetLanguageCode": "en"}
CONNECTOR_FILES = ("examples/connectors/egress-translate.json", "examples/connectors/ingress-translate.json")

# Case -> the worker whose conversations carry it.
AGENT_TO_BOT = {"a2b-none": "none", "a2b-translation": "egress", "a2b-short-links": "short-links", "a2b-both": "both"}
BOT_TO_AGENT = {"b2a-none": "none", "b2a-translation": "ingress"}
ROUND_TRIPS = ("translate-text", "shortener-post")
CASES = (*AGENT_TO_BOT, *BOT_TO_AGENT, *ROUND_TRIPS)
# Feature case -> (its baseline, the round trips of the APIs it calls).
ADDED = {
    "a2b-translation": ("a2b-none", ("translate-text",)),
    "a2b-short-links": ("a2b-none", ("shortener-post",)),
    "a2b-both": ("a2b-none", ("translate-text", "shortener-post")),
    "b2a-translation": ("b2a-none", ("translate-text",)),
}
# What `paced` makes of each message's label, key and index, found again in whatever the service made of it.
TAG = re.compile(r"(?:warm-up|measured) \S+ #\d+")
# The local Connect's translation rule turns a text that is not one of its phrases into "[TARGET] text".
TO_USER, TO_AGENT = "[es] ", "[en] "
SHORT = "https://sqz.test/"


def worker_data(name: str, shortener_url: str) -> dict[str, Any]:
    short_links = {"Config": {"Api": shortener_url, "ApiKey": KEY_REF}, "Type": "Squeeze"}
    return {
        "none": {},
        "egress": {"EgressTranslationConfig": EGRESS},
        "short-links": {"ShortLinkConfig": short_links},
        "both": {"EgressTranslationConfig": EGRESS, "ShortLinkConfig": short_links},
        "ingress": {"IngressTranslationConfig": INGRESS},
    }[name]


def agent_content(case: str, text: str) -> str:
    if case in ("a2b-short-links", "a2b-both"):
        return f"{text}: see https://shop.example/orders/4711?utm=chat and https://shop.example/help/returns"
    return text


def run_py(*arguments: str, stdin: str | None = None) -> str:
    answer = subprocess.run([sys.executable, "run.py", *arguments], cwd=REPO, input=stdin, capture_output=True, text=True, check=True)
    return answer.stdout.strip()


def set_up_workers(data_dir: Path, connect: dict[str, Any], shortener_url: str) -> dict[str, str]:
    """The translation connectors, the short-link API's key (in the local vault) and the five workers,
    as an operator makes them before starting the service; worker name -> id."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = str(data_dir / "events.db")
    for connector in CONNECTOR_FILES:
        run_py("connector", "create", connector, "--db", db)
    run_py("secret", "put", KEY_REF, "--db", db, stdin=KEY)
    workers = {}
    for name in ("none", "egress", "short-links", "both", "ingress"):
        worker_file = data_dir / f"worker-{name}.json"
        data = {
            "ContactFlowId": connect["contact_flow_id"],
            "InstanceId": connect["instance_id"],
            "Region": connect["region"],
            "Secret": "srn:vault::bench:aws-cross-account-role:local",
            **worker_data(name, shortener_url),
        }
        config = {"Data": data, "Description": "bench/relay_features.py", "Enabled": True, "Name": name, "Type": "amazon-connect-worker"}
        worker_file.write_text(json.dumps(config))
        workers[name] = run_py("worker", "create", str(worker_file), "--db", db).split()[-1]
    return workers


def start_connect_local(folder: Path, chats: int) -> tuple[Child, dict[str, Any]]:
    """bench/load.py's local Connect, but its queue has no simulated agent: chats wait for the agent API."""
    config = connect_local_config(chats)
    for region in config["regions"]:
        for instance in region["instances"]:
            for queue in instance["queues"]:
                queue["agents"] = []
    path = folder / "connect-local.json"
    path.write_text(json.dumps(config))
    ready = folder / "connect-local.ready.json"
    child = Child("connect-local", ["connect-local", "--config", str(path), "--ready-file", str(ready)], folder / "connect-local.log")
    return child, child.wait_ready(ready)


def start_service(folder: Path, data_dir: Path, connect: dict[str, Any]) -> tuple[Child, dict[str, Any]]:
    """`run.py serve` with its region and its connectors' Translate calls at the local Connect."""
    config = folder / "serve.json"
    config.write_text(
        json.dumps(
            {
                "data_dir": str(data_dir),
                "api_port": 0,
                "regions": {connect["region"]: {"endpoint_url": connect["endpoint_url"], "static_credentials": True}},
                "connectors": {"endpoints": {"Translate": connect["endpoint_url"]}, "static_credentials": True},
            }
        )
    )
    ready = folder / "serve.ready.json"
    child = Child("service", ["serve", "--config", str(config), "--ready-file", str(ready)], folder / "service.log")
    return child, child.wait_ready(ready)


def accepted_chats(
    api: Api, agent: JsonClient, webhook: Webhook, workers: dict[str, str], per_case: int
) -> dict[str, list[tuple[str, str]]]:
    """`per_case` conversations for each relay case, each accepted by a human agent through the agent
    API; case -> [(conversation id, contact id)]."""
    cases = {**AGENT_TO_BOT, **BOT_TO_AGENT}
    for case, worker in cases.items():
        for index in range(per_case):
            api.transfer(f"{case}-{index}", workers[worker], webhook.url)
    chats: dict[str, list[tuple[str, str]]] = {}
    for case in cases:
        chats[case] = []
        for index in range(per_case):
            conversation_id = f"{case}-{index}"
            contact_id = _contact_when_started(api, conversation_id)
            status, answer = agent.call("POST", f"/chats/{contact_id}/accept", {"AgentName": "Ana"})
            if status != 200:
                raise RuntimeError(f"accepting {conversation_id}: {status} {answer}")
            chats[case].append((conversation_id, contact_id))
    if not webhook.wait_count("AgentJoined", len(cases) * per_case, timeout=60):
        raise RuntimeError(f"only {webhook.by_type['AgentJoined']} of {len(cases) * per_case} agents joined")
    return chats


def _contact_when_started(api: Api, conversation_id: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return api.contact_id(conversation_id)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Traffic:
    """One message or call of any case, by `paced`'s key `CASE/N` (N: the case's Nth conversation)."""

    def __init__(
        self, api: Api, agent: JsonClient, chats: dict[str, list[tuple[str, str]]], connect: dict[str, Any], shortener_url: str
    ) -> None:
        self._api, self._agent, self._chats, self._shortener_url = api, agent, chats, shortener_url
        # As the service's connectors make theirs: one client for every call, its time limits and tries.
        self._translate = boto3.client(
            "translate",
            region_name=connect["region"],
            endpoint_url=connect["endpoint_url"],
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=CONVERSATION_CONFIG,
        )
        self._lock = threading.Lock()
        self.agent_sent_at: dict[str, float] = {}  # paced's text -> the agent message's AbsoluteTime

    def send(self, key: str, text: str) -> None:
        case, index = key.rsplit("/", 1)
        if case in AGENT_TO_BOT:
            contact_id = self._chats[case][int(index)][1]
            status, answer = self._agent.call("POST", f"/chats/{contact_id}/messages", {"Content": agent_content(case, text)})
            if status != 200:
                raise RuntimeError(f"agent message to {contact_id}: {status} {answer}")
            with self._lock:
                self.agent_sent_at[text] = connect_time(answer["AbsoluteTime"])
        elif case in BOT_TO_AGENT:
            self._api.say(self._chats[case][int(index)][0], text)
        elif case == "translate-text":
            self._translate.translate_text(Text=text, SourceLanguageCode="en", TargetLanguageCode="es")
        else:
            body = json.dumps({"url": f"https://shop.example/orders/4711?n={index}"}).encode()
            answer = post(self._shortener_url, body, {"Content-Type": "application/json", "x-api-key": KEY}, timeout=2.0)
            if answer.status != 200:
                raise RuntimeError(f"shortener: HTTP {answer.status}")


def interleaved(rounds: int, per_case: int) -> list[str]:
    """Keys round robin over the cases, and over each case's conversations."""
    return [f"{case}/{index % per_case}" for index in range(rounds) for case in CASES]


def applied(case: str, text: str) -> bool:
    """Whether the user got the message as the case's features make it."""
    translated = text.startswith(TO_USER)
    shortened = text.count(SHORT) == 2 and "shop.example" not in text
    return {"a2b-none": True, "a2b-translation": translated, "a2b-short-links": shortened, "a2b-both": translated and shortened}[case]


def agent_to_bot(sent: list[Sent], traffic: Traffic, webhook: Webhook, timeout: float = 60) -> dict[str, Any]:
    """Each agent->bot case's latencies, once every measured message is at the webhook (or the time is up)."""
    wanted = {m.text for m in sent if m.key.split("/")[0] in AGENT_TO_BOT}
    deadline = time.monotonic() + timeout
    while True:
        arrived = {match[0]: (text, at) for text, at in webhook.texts("AgentMessage").items() if (match := TAG.search(text))}
        if wanted <= arrived.keys() or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    figures = {}
    for case in AGENT_TO_BOT:
        mine = [m for m in sent if m.key.split("/")[0] == case]
        got = [(arrived[m.text], traffic.agent_sent_at[m.text]) for m in mine if m.text in arrived]
        figures[case] = {
            **latency([at - sent_at for (_, at), sent_at in got]),
            "sent": len(mine),
            "as_the_feature_makes_it": sum(applied(case, text) for (text, _), _ in got),
        }
    return figures


def bot_to_agent(sent: list[Sent], admin: ConnectAdmin, chats: dict[str, list[tuple[str, str]]], timeout: float = 60) -> dict[str, Any]:
    """Each bot->agent case's latencies, once every measured message is at Connect (or the time is up)."""
    contact_ids = [contact_id for case in BOT_TO_AGENT for _, contact_id in chats[case]]
    mine = {case: [m for m in sent if m.key.split("/")[0] == case] for case in BOT_TO_AGENT}
    deadline = time.monotonic() + timeout
    while True:
        times = admin.message_times(contact_ids)
        found = {case: [m for m in messages if _at_connect(case, m, times) is not None] for case, messages in mine.items()}
        if all(len(found[case]) == len(mine[case]) for case in mine) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    figures = {}
    for case, messages in mine.items():
        figures[case] = {
            **latency([_at_connect(case, m, times) - m.sent_at for m in found[case]]),
            "sent": len(messages),
            "as_the_feature_makes_it": len(found[case]),
        }
    return figures


def _at_connect(case: str, message: Sent, times: dict[tuple[str, str], float]) -> float | None:
    """When Connect recorded the message as the feature makes it (translated, for ingress translation)."""
    content = TO_AGENT + message.text if case == "b2a-translation" else message.text
    return times.get(("CUSTOMER", content))


def round_trips(sent: list[Sent]) -> dict[str, Any]:
    return {case: latency([m.accepted_at - m.sent_at for m in sent if m.key.split("/")[0] == case]) for case in ROUND_TRIPS}


def added(cases: dict[str, Any]) -> dict[str, Any]:
    """Each feature's p50 and p99 over its baseline's, beside the round trips of the APIs it calls."""
    rows = {}
    for case, (baseline, apis) in ADDED.items():
        rows[case] = {
            "added_p50_ms": round(cases[case]["p50_ms"] - cases[baseline]["p50_ms"], 2),
            "added_p99_ms": round(cases[case]["p99_ms"] - cases[baseline]["p99_ms"], 2),
            "round_trip_p50_ms": round(sum(cases[api]["p50_ms"] for api in apis), 2),
            "round_trip_p99_ms": round(sum(cases[api]["p99_ms"] for api in apis), 2),
        }
    return rows


def report(results: dict[str, Any]) -> str:
    cases, rows, load = results["cases"], results["added"], results["load_average_1min"]
    lines = [f"{results['measured_seconds']} s measured; the machine's 1-minute load average {load['before']:.2f} before, {load['after']:.2f} after", ""]
    lines += [f"{'case':<18} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  as the feature makes it"]
    for case in CASES:
        figures = cases[case]
        done = f"{figures['as_the_feature_makes_it']} of {figures['sent']}" if "sent" in figures else ""
        lines.append(f"{case:<18} {figures['count']:>6} {figures['p50_ms']:>8} {figures['p99_ms']:>8} {figures['max_ms']:>8}  {done}")
    lines.append("")
    lines.append(f"{'feature':<18} {'added p50':>10} {'added p99':>10}   API round trip p50 / p99")
    for case, row in rows.items():
        apis = " + ".join(ADDED[case][1])
        lines.append(
            f"{case:<18} {row['added_p50_ms']:>10} {row['added_p99_ms']:>10}   {row['round_trip_p50_ms']} / {row['round_trip_p99_ms']} ({apis})"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300, help="measured messages (or calls) per case")
    parser.add_argument("--conversations", type=int, default=4, help="conversations per relay case")
    parser.add_argument("--rate", type=float, default=40.0, help="messages and calls a second, all cases together")
    parser.add_argument("--warm-up", type=int, default=10, help="messages per case sent before measuring, not counted")
    parser.add_argument("--data-root", type=Path, help="where the service's data folder goes (default bench/out/); a folder on tmpfs takes the disk's fsync out")
    args = parser.parse_args()

    folder = OUT / "relay-features"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data_dir = (args.data_root or folder) / "relay-features-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    per_case = args.conversations
    shortener = Shortener(KEY).start()
    webhook = Webhook().start()
    connect_child, connect = start_connect_local(folder, len(CASES) * per_case + 10)
    service: Child | None = None
    try:
        workers = set_up_workers(data_dir, connect, shortener.url)
        token = create_admin_client(data_dir, "relay-features")
        service, ready = start_service(folder, data_dir, connect)
        api, agent = Api(ready["api_url"], token), JsonClient(connect["agent_api_url"])
        chats = accepted_chats(api, agent, webhook, workers, per_case)
        traffic = Traffic(api, agent, chats, connect, shortener.url)
        paced(interleaved(args.warm_up, per_case), args.rate, traffic.send, label="warm-up")
        load_before, began = os.getloadavg()[0], time.monotonic()
        sent = paced(interleaved(args.messages, per_case), args.rate, traffic.send, label="measured")
        seconds, load_after = time.monotonic() - began, os.getloadavg()[0]
        cases = {
            **agent_to_bot(sent, traffic, webhook),
            **bot_to_agent(sent, ConnectAdmin(connect["admin_url"]), chats),
            **round_trips(sent),
        }
    finally:
        if service is not None:
            service.stop()
        connect_child.stop()
        webhook.stop()
        shortener.stop()
        if args.data_root is not None:
            shutil.rmtree(data_dir, ignore_errors=True)  # tmpfs is memory; by default the data stays in bench/out to read
    results = {
        "messages_per_case": args.messages,
        "conversations_per_case": per_case,
        "rate_per_s": args.rate,
        "measured_seconds": round(seconds, 1),
        "data_root": str(args.data_root or OUT),
        # Other work on the machine moves p99 far more than anything measured here.
        "load_average_1min": {"before": load_before, "after": load_after},
        "cases": cases,
        "added": added(cases),
        "shortener": {"asked": shortener.asked, "refused": shortener.refused},
        "webhook_duplicates": webhook.duplicates,
    }
    print(report(results))
    (OUT / f"relay-features-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=1))
    failed = [case for case, figures in cases.items() if figures.get("as_the_feature_makes_it", figures["count"]) < figures.get("sent", 0)]
    if failed:
        print(f"not measured as asked: {', '.join(failed)} lost messages or went without their feature; see {folder / 'service.log'}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
