"""Running run.py as a child process, the way an operator would."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
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


class OutputLines:
    """A child's output (started by `start_run_py`), read line by line on a thread of its own: a test
    waits for each line with a deadline, and a child that prints nothing more fails the test with its
    threads' stacks (SIGUSR1: run.py's faulthandler) instead of blocking the run on the pipe for ever."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._process = process
        self._lines: queue.Queue[str | None] = queue.Queue()  # None: the output has ended
        self._read: list[str] = []  # every line taken so far
        threading.Thread(target=self._pump, args=(process.stdout,), name="child-output", daemon=True).start()

    def _pump(self, stdout: Any) -> None:
        for line in stdout:
            self._lines.put(line)
        self._lines.put(None)

    def next(self, timeout: float = 30) -> str:
        """The next line; fails if none comes within `timeout` seconds or the output ends first."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"run.py printed no line within {timeout} s; its output and stacks:\n{self._stacks()}") from None
        if line is None:
            self._lines.put(None)
            raise AssertionError(f"run.py's output ended (exit code {self._process.wait()}):\n{self.rest()}")
        self._read.append(line)
        return line

    def rest(self) -> str:
        """Everything printed, once the child has exited (after `stop_with`)."""
        while (line := self._lines.get()) is not None:
            self._read.append(line)
        self._lines.put(None)
        return "".join(self._read)

    def stop_with(self, signum: int, timeout: float = 20) -> str:
        """Send `signum`, wait for the child to exit, and return its whole output; one still running
        after `timeout` seconds is asked for its stacks, killed, and the test fails with them."""
        self._process.send_signal(signum)
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"run.py did not exit within {timeout} s of signal {signum}; its output and stacks:\n"
                                 f"{self._stacks()}") from None
        return self.rest()

    def _stacks(self) -> str:
        """Ask the child for its threads' stacks, give it 5 s to print them, kill it; all it printed."""
        self._process.send_signal(signal.SIGUSR1)
        try:
            self._process.wait(timeout=5)  # a child that dumps its stacks goes on: the wait runs out
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        return self.rest()[-20000:]
