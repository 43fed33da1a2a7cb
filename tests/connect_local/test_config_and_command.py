"""The configuration file and `run.py connect-local`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connect_local import InvalidConfig, LocalConnect, load_config
from tests.connect_local.clients import Clients, is_message
from tests.support.processes import REPO, start_run_py, wait_for_ready_file

EXAMPLE = {
    "regions": [
        {
            "name": "eu-west-2",
            "instances": [
                {
                    "id": "inst-1",
                    "contact_flows": [{"id": "flow-1", "queue_id": "q-1"}],
                    "queues": [
                        {
                            "id": "q-1",
                            "hours_of_operation_id": "office",
                            "agents": [{"name": "Zoe", "join_delay_seconds": 0, "default_reply": "Zoe here: {message}"}],
                        }
                    ],
                    "hours_of_operation": [
                        {"id": "office", "time_zone": "Europe/London", "schedule": [{"day": "MONDAY", "start": "00:00", "end": "24:00"}]}
                    ],
                }
            ],
        }
    ],
    "limits": {"message_max_bytes": 1024},
    "rate_limits": {"SendMessage": {"rate": 5, "burst": 10}},
}


def test_a_full_configuration_decodes() -> None:
    config = load_config(json.dumps(EXAMPLE).encode())
    queue = config.regions[0].instances[0].queues[0]
    assert queue.agents[0].name == "Zoe"
    assert config.limits.message_max_bytes == 1024
    assert config.rate_limits["SendMessage"].burst == 10


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda c: c["regions"][0]["instances"][0]["queues"][0]["agents"][0].update(join_delay_seconds=-1), "$.regions[0].instances[0].queues[0].agents[0].join_delay_seconds"),
        (lambda c: c["regions"][0].update(nmae="typo"), "$.regions[0]"),
        (lambda c: c["regions"][0]["instances"][0]["contact_flows"][0].update(queue_id="nope"), "$.regions[0].instances[0].contact_flows[0].queue_id"),
        (lambda c: c["regions"][0]["instances"][0]["queues"][0].update(hours_of_operation_id="nope"), "$.regions[0].instances[0].queues[0].hours_of_operation_id"),
        (lambda c: c["regions"][0]["instances"][0]["hours_of_operation"][0]["schedule"][0].update(end="25:00"), "$.regions[0].instances[0].hours_of_operation[0].schedule[0].end"),
        (lambda c: c["regions"][0]["instances"][0]["hours_of_operation"][0].update(time_zone="Mars/Olympus"), "$.regions[0].instances[0].hours_of_operation[0].time_zone"),
        (lambda c: c["limits"].update(message_max_bytes=20000), "$.limits.message_max_bytes"),
    ],
)
def test_configuration_errors_name_the_json_path(change: Callable[[dict[str, Any]], None], path: str) -> None:
    broken = json.loads(json.dumps(EXAMPLE))
    change(broken)
    with pytest.raises(InvalidConfig) as raised:
        load_config(json.dumps(broken).encode())
    assert path in str(raised.value)


def test_a_configured_server_serves_its_regions_and_agents() -> None:
    with LocalConnect(load_config(json.dumps(EXAMPLE).encode())) as server, Clients(server, "eu-west-2") as clients:
        assert server.ready_info()["region"] == "eu-west-2"
        chat = clients.start_chat()
        socket = chat.connect()
        chat.send("hi")
        # Open on Mondays only: on other days the flow answers instead of Zoe.
        socket.wait_item(lambda item: item["Type"] == "MESSAGE" and item["ParticipantRole"] in ("AGENT", "SYSTEM"))


def test_the_command_writes_a_ready_file_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    process = start_run_py("connect-local", "--port", "0", "--ready-file", str(ready))
    try:
        info = wait_for_ready_file(ready, process)
        assert set(info) >= {"endpoint_url", "region", "instance_id", "contact_flow_id", "queue_id", "agent_api_url", "agent_page_url"}
        server = _Remote(info["endpoint_url"], info)
        with Clients(server) as clients:  # type: ignore[arg-type]
            chat = clients.start_chat()
            socket = chat.connect()
            chat.send("hello")
            socket.wait_item(is_message("hello", "CUSTOMER"))
            token = chat.participant_token
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert info["endpoint_url"] in output
    assert token not in output
    assert "X-Amz-Security-Token" not in output


def test_the_command_reports_a_bad_configuration(tmp_path: Path) -> None:
    config = tmp_path / "connect.json"
    config.write_text('{"regions": []}')
    result = subprocess.run(
        [sys.executable, "run.py", "connect-local", "--config", str(config)],
        cwd=REPO, capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 2
    assert "$.regions" in result.stdout


class _Remote:
    """Just enough of LocalConnect's surface for Clients, for a server in another process."""

    def __init__(self, endpoint_url: str, info: dict[str, str]) -> None:
        self.endpoint_url = endpoint_url
        self._info = info

    def ready_info(self) -> dict[str, str]:
        return self._info
