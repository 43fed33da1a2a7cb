"""`python run.py` with no subcommand: what exists today, on loopback."""

from __future__ import annotations

import signal
from pathlib import Path

import boto3

from tests.support.processes import start_run_py, wait_for_ready_file


def test_embedded_default_serves_local_connect_and_creates_the_store(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    data = tmp_path / "data"
    process = start_run_py("--data", str(data), "--ready-file", str(ready))
    try:
        info = wait_for_ready_file(ready, process)
        connect = boto3.client(
            "connect",
            endpoint_url=info["endpoint_url"],
            region_name=info["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        started = connect.start_chat_contact(
            InstanceId=info["instance_id"],
            ContactFlowId=info["contact_flow_id"],
            ParticipantDetails={"DisplayName": "Maya"},
        )
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert (data / "events.db").exists()
    assert info["agent_page_url"] in output
    assert started["ParticipantToken"] not in output
