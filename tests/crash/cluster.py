"""Several `run.py serve` nodes on one event log: a DynamoDB table in moto's server on loopback, one
local Amazon Connect, each node on its own data folder and fixed API port, each a child process that
can be killed (SIGKILL), paused (SIGSTOP), resumed (SIGCONT) and started again on its folder.

The nodes share what a cluster shares (docs/dynamodb-store.md): the bot's API client is made in the
table (`run.py client create --config`), so one bearer token and one webhook signing secret work on every
node, and the vault is Secrets Manager in the same moto server.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.leases import LeaseTable
from tests.crash import service_process
from tests.crash.children import Child, Children, free_port
from tests.crash.event_log import ConversationLog, read_log_from
from tests.support.dynamodb import DUMMY_CREDENTIALS, open_dynamo_store
from tests.support.dynamodb import REGION as TABLE_REGION


# How long a node may take to listen: three of them and moto start at once, and on this shared machine
# (load averages of 20 to 30) a node's restart once took more than the children's usual 60 s.
READY_SECONDS = 180.0


@dataclass
class Node:
    """One `run.py serve` child on its own data folder; `name` is its node id."""

    name: str
    folder: Path
    config: Path
    children: Children
    child: Child | None = None
    ready: dict[str, Any] = field(default_factory=dict)
    starts: int = 0

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "service.log"

    @property
    def api_url(self) -> str:
        return self.ready["api_url"]

    def start(self) -> None:
        """Start it and wait until it listens (its ready file), on the same folder each time."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start it, not waiting (`wait_ready`): nodes started together start in parallel."""
        self.starts += 1
        self.child = self.children.start(service_process.launch_service(self.config, self._ready_file(), self.log))

    def wait_ready(self) -> None:
        assert self.child is not None
        self.ready = self.child.wait_ready(self._ready_file(), timeout=READY_SECONDS)

    def _ready_file(self) -> Path:
        return self.folder / f"serve.ready.{self.starts}.json"

    def running(self) -> bool:
        return self.child is not None and self.child.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the crash, nothing shut down."""
        assert self.child is not None
        self.child.kill()

    def pause(self) -> None:
        """SIGSTOP: the process is frozen as it is (a long GC pause, a VM stalled), sockets and all."""
        assert self.child is not None
        self.child.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT: it goes on from where it was frozen, unaware of the time that passed."""
        assert self.child is not None
        self.child.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """SIGTERM (after SIGCONT, in case it was paused), and wait."""
        if self.running():
            self.resume()
            assert self.child is not None
            self.child.stop()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    """The nodes, the table they share and what the operator's commands are given (the first node's
    configuration: the table, and its data folder for what is not the log)."""

    table: str
    endpoint_url: str
    nodes: list[Node]
    lease_seconds: float

    @property
    def operator_config(self) -> Path:
        return self.nodes[0].config

    def start(self) -> None:
        """Every node, started together; back once each listens."""
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.wait_ready()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)


def node_config(folder: Path, data: Path, connect: Mapping[str, Any], table: str, endpoint_url: str,
                api_port: int, node_id: str, lease_seconds: float) -> Path:
    """A node's `run.py serve` configuration: the crash harness's (service_process.write_serve_config),
    with the event log in the shared table, the node's `cluster` setting (docs/cluster.md) and the vault
    in Secrets Manager, which the nodes share."""
    path = service_process.write_serve_config(folder, data, connect, api_port)
    config = json.loads(path.read_text())
    config["store"] = {"dynamodb": {"table": table, "region": TABLE_REGION, "endpoint_url": endpoint_url}}
    config["cluster"] = {"node_id": node_id, "url": f"http://127.0.0.1:{api_port}", "lease_seconds": lease_seconds}
    config["vault"] = {"backend": "secretsmanager", "region": TABLE_REGION, "endpoint_url": endpoint_url}
    path.write_text(json.dumps(config))
    return path


def make_cluster(folder: Path, connect: Mapping[str, Any], table: str, endpoint_url: str, children: Children,
                 nodes: int, lease_seconds: float) -> Cluster:
    """The nodes' folders and configurations, none started yet: `node-0`, `node-1`, ..."""
    made = []
    for n in range(nodes):
        node_folder = folder / f"node-{n}"
        node_folder.mkdir(parents=True, exist_ok=True)
        config = node_config(node_folder, node_folder / "data", connect, table, endpoint_url, free_port(),
                             f"node-{n}", lease_seconds)
        made.append(Node(f"node-{n}", node_folder, config, children))
    return Cluster(table, endpoint_url, made, lease_seconds)


@contextmanager
def dummy_credentials() -> Iterator[None]:
    """moto's dummy keys in this process's environment while inside (the operator's commands run here
    and sign their DynamoDB calls with boto3's default chain); what was there before is put back."""
    before = {name: os.environ.get(name) for name in DUMMY_CREDENTIALS}
    os.environ.update(DUMMY_CREDENTIALS)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class ClusterUnderTest:
    """The crash harness's three-node mode: the nodes as one service under test. `kill()` SIGKILLs a
    node drawn from `rng` (the seed's); `start()` waits until the other nodes have taken over every
    conversation it owned (no lease item names it any more), then starts it again on its folder, so
    each kill makes the others resume its conversations (its bots meanwhile call the next node, which
    forwards to the owner: tests/crash/bot.py). The same attributes as the one-node `ServiceUnderTest`."""

    def __init__(self, cluster: Cluster, rng: random.Random) -> None:
        self.cluster = cluster
        self.leases = LeaseTable.open(cluster.table, TABLE_REGION, endpoint_url=cluster.endpoint_url)
        self._rng = rng
        self._killed: Node | None = None
        self.start_seconds: list[float] = []  # how long each start took to listen, the first starts included
        self.start_times: list[float] = []
        self.kill_times: list[float] = []
        self.killed: list[str] = []  # the node of each kill, in order
        self.takeover_seconds: list[float] = []  # from each kill to the others holding all its leases

    @property
    def api_urls(self) -> list[str]:
        return [node.api_url for node in self.cluster.nodes]

    def start(self) -> None:
        """The first time: every node together; then the killed node."""
        if self._killed is not None:
            self.takeover_seconds.append(self._taken_over(self._killed))
        self.start_times.append(time.time())
        began = time.monotonic()
        if self._killed is not None:
            self._killed.start()
        else:
            self.cluster.start()
        self.start_seconds.append(time.monotonic() - began)
        self._killed = None

    def kill(self) -> None:
        self._killed = self._rng.choice(self.cluster.nodes)
        self.killed.append(self._killed.name)
        self.kill_times.append(time.time())
        self._killed.kill()

    def stop(self) -> None:
        self.cluster.stop()

    def _taken_over(self, node: Node) -> float:
        """Seconds from the kill until no lease names `node` (fails after a generous deadline)."""
        deadline = time.monotonic() + 10 * self.cluster.lease_seconds + 30
        while any(lease.owner == node.name for lease in self.leases.all()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{node.name}'s conversations were not taken over: {self.leases.all()}")
            time.sleep(0.1)  # the lease table is looked at again
        return time.time() - self.kill_times[-1]

    def read_log(self, scratch: Path) -> dict[str, ConversationLog]:
        """Every conversation's log, read from the table (`scratch`: the SQLite file a store opens beside it)."""
        with open_dynamo_store(self.cluster.endpoint_url, self.cluster.table, scratch) as log:
            return read_log_from(log)


def start_dynamodb(folder: Path, children: Children) -> str:
    """moto's DynamoDB server as a child process (tests/support/dynamodb_server.py), ended with the
    other children; its endpoint URL once it listens."""
    ready = folder / "dynamodb.ready.json"
    child = children.start(Child("dynamodb", ["--ready-file", str(ready)], folder / "dynamodb.log",
                                 module="tests.support.dynamodb_server"))
    return child.wait_ready(ready)["endpoint_url"]
