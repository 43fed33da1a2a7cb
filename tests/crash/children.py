"""Child processes of the crash harness (`run.py` subcommands), each logging to a file, and a registry
that ends every one of them at teardown, whatever happened."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.01


class Child:
    """`python run.py ARGUMENTS` (or `python -m MODULE ARGUMENTS`) in the repository, its output appended
    to `log`."""

    def __init__(self, name: str, arguments: list[str], log: Path, env: dict[str, str] | None = None,
                 module: str | None = None) -> None:
        """`env` adds to (or replaces in) this process's environment."""
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, *(["-m", module] if module else ["run.py"]), *arguments],
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": _python_path(), **(env or {})},
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, ready_file: Path, timeout: float = 60) -> dict[str, Any]:
        """The ready file's JSON once written; fails naming the log if the child dies or is too slow."""
        deadline = time.monotonic() + timeout
        while not ready_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} wrote no ready file in {timeout} s; see {self.log}")
            time.sleep(POLL_SECONDS)
        return json.loads(ready_file.read_text())

    def kill(self) -> None:
        """SIGKILL, the crash: no clean shutdown of any kind."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM and wait; SIGKILL if it does not end in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Children:
    """Every child started through it is ended by `close()` (SIGTERM, then SIGKILL)."""

    def __init__(self) -> None:
        self._children: list[Child] = []

    def start(self, child: Child) -> Child:
        self._children.append(child)
        return child

    def close(self) -> None:
        for child in reversed(self._children):
            child.stop(timeout=10)
        self._children.clear()

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_connect_local(folder: Path, config: dict[str, Any]) -> tuple[Child, dict[str, Any]]:
    """`run.py connect-local` with `config`, on 127.0.0.1 at a free port; its ready file's JSON."""
    config_path = folder / "connect-local.json"
    config_path.write_text(json.dumps(config))
    ready = folder / "connect-local.ready.json"
    child = Child("connect-local", ["connect-local", "--host", "127.0.0.1", "--port", "0", "--config", str(config_path),
                                    "--ready-file", str(ready)], folder / "connect-local.log")
    try:
        return child, child.wait_ready(ready)
    except BaseException:
        child.kill()
        raise


def _python_path() -> str:
    return os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


def free_port() -> int:
    """A port nothing listens on now, for the service's fixed API port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
