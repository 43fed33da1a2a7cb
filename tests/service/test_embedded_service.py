"""`python run.py`: the whole service on loopback, driven as the printed curl commands do."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.service.harness import Api, wait_for
from tests.support.processes import start_embedded, stop_gracefully


def test_the_embedded_default_relays_a_conversation_and_keeps_its_demo_worker(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process, info = start_embedded(data, tmp_path / "ready-1.json")
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
        output = stop_gracefully(process)
    assert info["agent_page_url"] in output and info["api_url"] in output
    assert token not in output

    again, second = start_embedded(data, tmp_path / "ready-2.json")
    stop_gracefully(again)
    assert second["demo_worker_id"] == info["demo_worker_id"]
    assert Path(second["api_token_file"]).read_text().strip() == token
