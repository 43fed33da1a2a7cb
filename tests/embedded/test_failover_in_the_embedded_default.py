"""The embedded default's demo worker has a failover region on the local Amazon Connect's second region,
so the failover command can be tried with no AWS, as the welcome text prints it: a live chat moves
there and back, and Ana greets the user in each region."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.demo_worker import DEMO_FAILOVER_NAME, DEMO_FAILOVER_REGION
from tests.service.harness import Api, wait_for
from tests.support.processes import start_embedded, start_run_py, stop_gracefully


def failover(info: dict[str, Any], *where: str) -> str:
    command = start_run_py("failover", info["demo_worker_id"], *where, "--move", "--db", info["store_path"])
    output, _ = command.communicate(timeout=60)
    assert command.returncode == 0, output
    return output


def test_the_demo_workers_live_chat_moves_to_the_standby_region_and_back(tmp_path: Path) -> None:
    process, info = start_embedded(tmp_path / "data", tmp_path / "ready.json")
    try:
        api = Api(info["api_url"], Path(info["api_token_file"]).read_text().strip())

        def told(kind: str) -> list[dict[str, Any]]:
            return [m for m in api.call("GET", "/v1/conversations/f-1/events?after=0")[1]["Events"] if m["Type"] == kind]

        assert api.transfer("f-1", info["demo_worker_id"], Context={"name": "Maya"})[0] == 201
        wait_for(lambda: told("AgentJoined"), "Ana to join")
        out = failover(info, "--to", DEMO_FAILOVER_NAME)
        assert f"failover region {DEMO_FAILOVER_NAME}: {DEMO_FAILOVER_REGION}" in out
        assert "carried out: 1 live conversation moved" in out
        wait_for(lambda: len(told("AgentJoined")) == 2, "Ana to join in the standby region")
        assert len(told("UserNotified")) == 1
        assert "carried out: 1 live conversation moved" in failover(info, "--primary")
        wait_for(lambda: len(told("AgentJoined")) == 3, "Ana to join back home")
        assert api.say("f-1", "m-1", "Hello again")[0] == 202
        wait_for(lambda: any("Hello again" in (m.get("Text") or "") for m in told("AgentMessage")), "Ana's answer")
    finally:
        output = stop_gracefully(process)
    assert f"--to {DEMO_FAILOVER_NAME} --move" in output
