"""The local Amazon Connect and the worker service as child processes, and what /proc says of them."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Usage:
    """One reading of a process: resident memory, threads, CPU seconds (user + system) so far."""

    rss_bytes: int
    threads: int
    cpu_seconds: float


def usage(pid: int) -> Usage:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # After the command: state is field 3; utime 14, stime 15, num_threads 20, rss 24 (1-based).
    utime, stime = int(fields[11]), int(fields[12])
    return Usage(
        rss_bytes=int(fields[21]) * PAGE_BYTES,
        threads=int(fields[17]),
        cpu_seconds=(utime + stime) / CLOCK_TICKS,
    )


def child_environment() -> dict[str, str]:
    """The children's environment: the repository on their path, and their compiled modules cached as
    an installed service's are (Python writes them on the first start; the one-file release's too), so
    that a restart's time is not spent compiling the project's sources again where the shell happens to
    set PYTHONDONTWRITEBYTECODE (bench/README.md, "The evening's changes together")."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return environment


class Child:
    """`python run.py ARGS` in the repository, with its output in a log file."""

    def __init__(self, name: str, arguments: list[str], log_path: Path) -> None:
        self.name = name
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "run.py", *arguments],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=child_environment(),
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def usage(self) -> Usage:
        return usage(self.pid)

    def wait_ready(self, ready_file: Path, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not ready_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self._log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} wrote no ready file in {timeout} s")
            time.sleep(0.02)
        return json.loads(ready_file.read_text())

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._log.close()

    def stop(self, timeout: float = 30) -> float | None:
        """SIGTERM, and SIGKILL if it has not exited within `timeout` s: the seconds it took to exit
        (None if it was killed, or had already exited)."""
        took = None
        if self.process.poll() is None:
            began = time.monotonic()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
                took = time.monotonic() - began
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return took


def allow_open_files(needed: int) -> int:
    """Raise this process's hard RLIMIT_NOFILE to `needed`, if it is lower and the system allows it (root,
    or CAP_SYS_RESOURCE), as an operator's LimitNOFILE= would: the children inherit it and raise their
    soft limit to it themselves (commands/open_files.py). Returns the hard limit the children get; below
    `needed`, a run fails with "Too many open files" somewhere short of its size."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard >= needed:
        return hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, needed))
    except (ValueError, OSError):
        print(f"open files: hard limit {hard} < {needed} needed, and not ours to raise", file=sys.stderr, flush=True)
        return hard
    return needed


def connect_local_config(chats: int) -> dict[str, Any]:
    """One always-open queue whose one simulated agent takes every chat at once and echoes each
    message; limits and rate limits far above the load, so Connect neither throttles nor refuses."""
    return {
        "regions": [
            {
                "name": "us-east-1",
                "instances": [
                    {
                        "id": "11111111-2222-4333-8444-555555555555",
                        "contact_flows": [
                            {"id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "queue_id": "99999999-8888-4777-8666-555555555555"}
                        ],
                        "queues": [
                            {
                                "id": "99999999-8888-4777-8666-555555555555",
                                "agents": [{"name": "Ana", "join_delay_seconds": 0, "max_concurrent_chats": chats}],
                            }
                        ],
                    }
                ],
            }
        ],
        "limits": {"max_active_chats_per_instance": chats},
        "default_rate_limit": {"rate": 1_000_000, "burst": 1_000_000},
    }


def start_connect_local(folder: Path, chats: int) -> tuple[Child, dict[str, Any]]:
    config = folder / "connect-local.json"
    config.write_text(json.dumps(connect_local_config(chats)))
    ready = folder / "connect-local.ready.json"
    child = Child("connect-local", ["connect-local", "--config", str(config), "--ready-file", str(ready)], folder / "connect-local.log")
    return child, child.wait_ready(ready)


def create_worker(data_dir: Path, connect: dict[str, Any], auto_disconnect: int = 0) -> str:
    """`run.py worker create`, as an operator does it; returns the new worker's id. `auto_disconnect`:
    seconds after each agent message for a WARNING, and twice that for a DISCONNECT (0: no timers)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    worker_file = data_dir / "worker.json"
    rules = [
        {"SecondsAfterAgentMessage": seconds, "Type": kind, "UserMessage": f"{kind} after {seconds} s"}
        for seconds, kind in ((auto_disconnect, "WARNING"), (2 * auto_disconnect, "DISCONNECT"))
    ]
    worker_file.write_text(
        json.dumps(
            {
                "Data": {
                    "ContactFlowId": connect["contact_flow_id"],
                    "InstanceId": connect["instance_id"],
                    "Region": connect["region"],
                    "Secret": "srn:vault::bench:aws-cross-account-role:local",
                    **({"AutoDisconnectEvents": rules} if auto_disconnect else {}),
                },
                "Description": "bench/load.py",
                "Enabled": True,
                "Name": "load",
                "Type": "amazon-connect-worker",
            }
        )
    )
    answer = subprocess.run(
        [sys.executable, "run.py", "worker", "create", str(worker_file), "--db", str(data_dir / "events.db")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return answer.stdout.strip().split()[-1]


def create_admin_client(data_dir: Path, name: str = "load-bench") -> str:
    """`run.py client create NAME --admin`, as an operator does it before starting the service;
    returns the new client's bearer token (printed once, on its `token` line)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    answer = subprocess.run(
        [sys.executable, "run.py", "client", "create", name, "--admin", "--db", str(data_dir / "events.db")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in answer.stdout.splitlines():
        if line.startswith("token "):
            return line.removeprefix("token ").strip()
    raise RuntimeError(f"run.py client create printed no token line: {answer.stdout!r}")


def start_service(folder: Path, data_dir: Path, connect: dict[str, Any], attempt: int = 0) -> tuple[Child, dict[str, Any]]:
    config = folder / "serve.json"
    config.write_text(
        json.dumps(
            {
                "data_dir": str(data_dir),
                "api_port": 0,
                "regions": {connect["region"]: {"endpoint_url": connect["endpoint_url"], "static_credentials": True}},
            }
        )
    )
    ready = folder / f"serve.ready.{attempt}.json"
    child = Child("service", ["serve", "--config", str(config), "--ready-file", str(ready)], folder / "service.log")
    return child, child.wait_ready(ready)
