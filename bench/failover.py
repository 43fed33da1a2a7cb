"""Failover of many live conversations, run by hand: how long the operator's command takes to be carried
out, and how long until every moved conversation has an agent again, against bare boto3 starting as many
chats in the new region.

    .venv/bin/python bench/failover.py                      # 100 and 1,000 live conversations
    .venv/bin/python bench/failover.py --sizes 200          # quick

For each size: the local Amazon Connect in its own process serving us-east-1 and us-west-2 (the same
instance, its simulated agent Ana joining every chat at once), `run.py serve` in its own process, N
conversations handed over and joined by Ana in us-east-1; then

1. `run.py failover W --to standby --move` (a child process, as the operator runs it): the seconds until
   it returns, i.e. until every conversation has recorded `FailoverSwitched` and the service has written
   `FailoverCarriedOut`;
2. the seconds from the command's start until the bot has been told every conversation's second
   `AgentJoined` (Ana in us-west-2): every chat started again, connected and answered;
3. `run.py failover W --primary --drain`: the seconds until it is carried out (nothing moves: each
   conversation records that it stays);
4. the baseline, in the same run: N bare StartChatContact + CreateParticipantConnection in us-west-2 with
   boto3, 16 at a time (bench/loadkit/bare.py), the least a move must do at Connect.

The figures are printed and written to bench/out/failover.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadkit.bare import start_chats  # noqa: E402
from bench.loadkit.driver import Api, transfer_all  # noqa: E402
from bench.loadkit.processes import REPO, Child, connect_local_config, create_admin_client, usage  # noqa: E402
from bench.loadkit.receiver import Webhook  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
PRIMARY, STANDBY = "us-east-1", "us-west-2"
DEADLINE = 600.0


def two_regions(chats: int) -> dict[str, Any]:
    """bench/load.py's local Connect, its one region served again as STANDBY."""
    config = connect_local_config(2 * chats)
    [region] = config["regions"]
    config["regions"] = [region, {**region, "name": STANDBY}]
    return config


def run_py(*arguments: str) -> str:
    return subprocess.run([sys.executable, "run.py", *arguments], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout


def measure(size: int, root: Path) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"failover-{size}-", dir=root))
    data = folder / "data"
    data.mkdir(mode=0o700)
    db = str(data / "events.db")
    (folder / "connect.json").write_text(json.dumps(two_regions(size)))
    connect_child = Child("connect-local", ["connect-local", "--config", str(folder / "connect.json"), "--ready-file",
                                            str(folder / "connect.ready.json")], folder / "connect-local.log")
    service = None
    webhook = Webhook().start()
    try:
        connect = connect_child.wait_ready(folder / "connect.ready.json")
        worker = {
            "Data": {
                "ContactFlowId": connect["contact_flow_id"], "InstanceId": connect["instance_id"], "Region": PRIMARY,
                "Secret": "srn:vault::bench:aws-cross-account-role:local",
                "FailoverRegionConfig": {"FailoverRegions": [{
                    "Name": "standby", "Secret": "srn:vault::bench:aws-cross-account-role:standby", "Region": STANDBY,
                    "InstanceId": connect["instance_id"], "ContactFlowId": connect["contact_flow_id"],
                }]},
            },
            "Enabled": True, "Name": "failover-bench", "Type": "amazon-connect-worker",
        }
        (folder / "worker.json").write_text(json.dumps(worker))
        worker_id = run_py("worker", "create", str(folder / "worker.json"), "--db", db).strip().split()[-1]
        token = create_admin_client(data)
        regions = {name: {"endpoint_url": connect["endpoint_url"], "static_credentials": True}
                   for name in (PRIMARY, STANDBY)}
        (folder / "serve.json").write_text(json.dumps({"data_dir": str(data), "api_port": 0, "regions": regions}))
        service = Child("service", ["serve", "--config", str(folder / "serve.json"), "--ready-file",
                                    str(folder / "serve.ready.json")], folder / "service.log")
        ready = service.wait_ready(folder / "serve.ready.json")
        api = Api(ready["api_url"], token)
        ids = [f"f-{n:05d}" for n in range(size)]
        transfer_all(api, ids, worker_id, webhook.url)
        if not webhook.wait_count("AgentJoined", size, DEADLINE):
            raise RuntimeError(f"only {webhook.by_type['AgentJoined']} of {size} chats joined")

        began = time.monotonic()
        moved = run_py("failover", worker_id, "--to", "standby", "--move", "--wait", str(DEADLINE), "--db", db)
        carried_out = time.monotonic() - began
        if not webhook.wait_count("AgentJoined", 2 * size, DEADLINE):
            raise RuntimeError(f"only {webhook.by_type['AgentJoined'] - size} of {size} moved chats joined again")
        answered = time.monotonic() - began
        began = time.monotonic()
        drained = run_py("failover", worker_id, "--primary", "--drain", "--wait", str(DEADLINE), "--db", db)
        drain = time.monotonic() - began
        service_usage = usage(service.process.pid)

        began = time.monotonic()
        start_chats({**connect, "region": STANDBY}, size)
        bare = time.monotonic() - began
        return {
            "conversations": size,
            "move_carried_out_s": round(carried_out, 3),
            "move_all_answered_again_s": round(answered, 3),
            "drain_carried_out_s": round(drain, 3),
            "bare_start_and_connect_s": round(bare, 3),
            "ratio_answered_to_bare": round(answered / bare, 2),
            "service_cpu_s": round(service_usage.cpu_seconds, 2),
            "command_said": [moved.strip().splitlines()[-1], drained.strip().splitlines()[-1]],
            "duplicate_deliveries": webhook.duplicates,
        }
    finally:
        webhook.stop()
        if service is not None:
            service.stop()
        connect_child.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--data-root", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        result = measure(size, args.data_root)
        results.append(result)
        print(json.dumps(result), flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "failover.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
