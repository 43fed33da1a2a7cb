"""`run.py status` beside `python run.py` running as its own process, then killed: the embedded default
writes the status file, and a service killed without stopping is said not running (its lock goes with it)."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.support.processes import start_embedded, start_run_py


def status_of(db: Path) -> tuple[int, str]:
    process = start_run_py("status", "--db", str(db))
    output, _ = process.communicate(timeout=30)
    return process.returncode, output


def test_status_of_the_embedded_default_running_then_killed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process, info = start_embedded(data, tmp_path / "ready.json")
    db = Path(info["store_path"])
    try:
        code, out = status_of(db)
        assert code == 0, out
        assert out.startswith(f"service running (pid {process.pid}, updated ")
        assert info["api_url"] in out
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)

    code, out = status_of(db)
    assert code == 3, out
    assert f"(pid {process.pid}, gone without stopping (killed or crashed))" in out.splitlines()[0]
    assert "live conversations (counted from the event store): 0" in out
