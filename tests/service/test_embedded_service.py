"""`python run.py`: the whole service on loopback, driven as the printed curl commands do."""

from __future__ import annotations

import signal
import stat
import subprocess
from pathlib import Path

from tests.service.harness import Api, wait_for
from tests.support.processes import start_run_py, wait_for_ready_file


def start(data: Path, ready: Path) -> tuple[subprocess.Popen[str], dict]:
    process = start_run_py("--data", str(data), "--ready-file", str(ready))
    return process, wait_for_ready_file(ready, process)


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def test_the_embedded_default_relays_a_conversation_and_keeps_its_demo_worker(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process, info = start(data, tmp_path / "ready-1.json")
    try:
        token_file = Path(info["api_token_file"])
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        api = Api(info["api_url"], token)
        status, conversation = api.transfer("e-1", info["demo_worker_id"], Context={"name": "Maya"})
        assert (status, conversation["DisplayName"]) == (201, "Maya")

        def told(kind: str, field: str) -> list[str]:
            status, page = api.call("GET", "/v1/conversations/e-1/events?after=0")
            assert status == 200, page
            return [event[field] for event in page["Events"] if event["Type"] == kind]

        assert wait_for(lambda: told("AgentJoined", "AgentName"), "Ana joining, on the pull stream") == ["Ana"]
        assert api.say("e-1", "m-1", "Hello")[0] == 202

        assert wait_for(lambda: told("AgentMessage", "Text"), "Ana's answer on the pull stream") == ["You said: Hello"]
    finally:
        output = stop(process)
    assert info["agent_page_url"] in output and info["api_url"] in output
    assert token not in output

    again, second = start(data, tmp_path / "ready-2.json")
    stop(again)
    assert second["demo_worker_id"] == info["demo_worker_id"]
    assert Path(second["api_token_file"]).read_text().strip() == token
