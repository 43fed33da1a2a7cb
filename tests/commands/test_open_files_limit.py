"""`serve`, `connect-local` and the embedded default raise their soft open-files limit to the hard one
at start-up (each live conversation holds a socket), and say so once in their log."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from store import EventStore
from tests.support.processes import REPO, stop_gracefully, wait_for_ready_file

LOW_SOFT_LIMIT = 256


def started_with_a_low_soft_limit(*arguments: str) -> subprocess.Popen[str]:
    """`python run.py --log-level INFO ARGUMENTS` whose soft RLIMIT_NOFILE starts at 256, the hard one this process's."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return subprocess.Popen(
        [sys.executable, "run.py", "--log-level", "INFO", *arguments],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_SOFT_LIMIT, hard)),
    )


def open_files_limits(pid: int) -> tuple[int, int]:
    """(soft, hard) of the running process, as /proc/PID/limits says."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no 'Max open files' line")


def serve_arguments(tmp_path: Path) -> list[str]:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    EventStore.open(data / "events.db").close()
    config = tmp_path / "serve.json"
    config.write_text(json.dumps({"data_dir": str(data), "api_port": 0}))
    return ["serve", "--config", str(config)]


@pytest.mark.parametrize("command", ["connect-local", "serve", "embedded"])
def test_the_soft_limit_is_raised_to_the_hard_one_and_logged(tmp_path: Path, command: str) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard <= LOW_SOFT_LIMIT or hard == resource.RLIM_INFINITY:
        pytest.skip(f"the hard limit here ({hard}) leaves nothing to raise")
    arguments = {
        "connect-local": ["connect-local", "--port", "0"],
        "serve": serve_arguments(tmp_path),
        "embedded": ["--data", str(tmp_path / "embedded")],
    }[command]
    ready = tmp_path / "ready.json"
    process = started_with_a_low_soft_limit(*arguments, "--ready-file", str(ready))
    try:
        wait_for_ready_file(ready, process)
        limits = open_files_limits(process.pid)
    finally:
        output = stop_gracefully(process)

    assert limits == (hard, hard)
    lines = [json.loads(line)["message"] for line in output.splitlines() if line.startswith("{")]
    assert [line for line in lines if line.startswith("open files")] == [
        f"open files: limit raised from {LOW_SOFT_LIMIT} to {hard} (the hard limit); each live conversation holds one socket"
    ]
