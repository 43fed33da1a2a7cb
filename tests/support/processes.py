"""Running run.py as a child process, the way an operator would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.02


def start_run_py(*arguments: str) -> subprocess.Popen[str]:
    """`python run.py ARGUMENTS` in the repository, its output captured."""
    return subprocess.Popen(
        [sys.executable, "run.py", *arguments],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def wait_for_ready_file(path: Path, process: subprocess.Popen[str], timeout: float = 30) -> dict[str, Any]:
    """The ready file's JSON, once the child has written it; fails if the child dies first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"run.py exited with {process.returncode}: {process.communicate()[0]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no ready file at {path} after {timeout} s")
        time.sleep(POLL_SECONDS)
    return json.loads(path.read_text())


def start_embedded(data: Path, ready: Path, *arguments: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """`python run.py --data DATA --ready-file READY ARGUMENTS`, once listening: the child and its ready file."""
    process = start_run_py("--data", str(data), "--ready-file", str(ready), *arguments)
    return process, wait_for_ready_file(ready, process)


def stop_gracefully(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as a service manager stops it; its whole output, once it exited 0. One that does not
    stop within 30 s is asked for its threads' stacks (SIGUSR1: run.py's faulthandler) and killed, and
    the test fails with them."""
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        try:
            output, _ = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        raise AssertionError(f"run.py did not stop within 30 s of SIGTERM; its output and stacks:\n{output[-20000:]}")
    assert process.returncode == 0, output
    return output
