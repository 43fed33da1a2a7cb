"""A service asked to stop the moment its ready file appears stops cleanly: the SIGTERM handler is in
place before the ready file is written (a supervisor or a test may signal as soon as it sees it)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

import commands.connect_local
import commands.serve
from tests.support.cli import cli


@pytest.fixture
def terminated_when_ready(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replaces a command's ready-file writer: it notes which SIGTERM handler is in place, then sends
    the process a SIGTERM, as a supervisor reading the ready file would. Handlers are put back after."""
    seen: list[Any] = []  # the SIGTERM handler in place when the ready file was written
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def write_and_terminate(path: Path, info: dict[str, Any]) -> None:
        handler = signal.getsignal(signal.SIGTERM)
        seen.append(handler)
        # With no handler yet, the signal would end this test process: say so instead.
        assert handler not in (signal.SIG_DFL, signal.SIG_IGN), "ready before SIGTERM is handled"
        os.kill(os.getpid(), signal.SIGTERM)

    for module in (commands.serve, commands.connect_local):
        monkeypatch.setattr(module, "write_ready_file", write_and_terminate)
    yield seen
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def test_serve_terminated_as_it_becomes_ready_exits_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], terminated_when_ready: list[Any]
) -> None:
    config = tmp_path / "serve.json"
    config.write_text(json.dumps({"data_dir": str(tmp_path / "data"), "api_port": 0}))
    code, _, _ = cli(capsys, "serve", "--config", str(config), "--ready-file", str(tmp_path / "ready.json"))
    assert code == 0 and len(terminated_when_ready) == 1


def test_connect_local_terminated_as_it_becomes_ready_exits_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], terminated_when_ready: list[Any]
) -> None:
    code, _, _ = cli(capsys, "connect-local", "--port", "0", "--ready-file", str(tmp_path / "ready.json"))
    assert code == 0 and len(terminated_when_ready) == 1
