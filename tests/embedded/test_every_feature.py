"""The README's worker that uses every feature (examples/), set up with run.py's commands as the README
says, in the embedded default with a person answering: slash commands with content and the email
connector (the local SES), translation both ways (the local Translate), queue metrics; links go as
written (no shortener key in this data folder)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.embedded.test_embedded_default import agent_api
from tests.service.harness import Api, wait_for
from tests.support.cli import cli
from tests.support.processes import REPO, start_embedded, stop_gracefully

EXAMPLES = REPO / "examples"


def run_py(capsys: pytest.CaptureFixture[str], data: Path, *arguments: str) -> str:
    """One of the README's commands, against the running default's store (run.py's `main` in this
    process: the same command without an interpreter's start each)."""
    code, out, err = cli(capsys, *arguments, "--db", str(data / "events.db"))
    assert code == 0, err
    return out.strip()


def test_the_readmes_every_feature_worker_works_in_the_embedded_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    process, info = start_embedded(data, tmp_path / "ready.json", "--agent", "human")
    try:
        for connector in sorted((EXAMPLES / "connectors").glob("*.json")):
            run_py(capsys, data, "connector", "create", str(connector))
        worker_id = run_py(capsys, data, "worker", "create", str(EXAMPLES / "worker-every-feature.json"))
        run_py(capsys, data, "content", "put", worker_id, "welcomewithname", "--text", "Welcome, {{name}}! I am here to help.")
        run_py(capsys, data, "content", "put", worker_id, "emailsent", "--text", "We have sent you an email at {{email}}.")

        api = Api(info["api_url"], Path(info["api_token_file"]).read_text().strip())
        status, queue = api.call("GET", f"/v1/workers/{worker_id}/queue")
        assert status == 200 and queue["ContactsInQueue"] == 0
        context = {"name": "Maya", "email": "maya@example.com"}
        assert api.transfer("every-1", worker_id, Context=context)[0] == 201
        [chat] = wait_for(lambda: agent_api(info, "GET", "/chats")[1]["chats"], "the chat in the queue")
        contact = chat["ContactId"]
        assert agent_api(info, "POST", f"/chats/{contact}/accept", {"AgentName": "Sam"})[0] == 200

        def told(kind: str) -> list[dict]:
            return [m for m in api.call("GET", "/v1/conversations/every-1/events?after=0")[1]["Events"] if m["Type"] == kind]

        def customer_lines() -> list[str]:
            items = agent_api(info, "GET", f"/chats/{contact}/transcript")[1]["Items"]
            return [i["Content"] for i in items if i.get("Type") == "MESSAGE" and i.get("ParticipantRole") == "CUSTOMER"]

        assert api.say("every-1", "m-1", "hola")[0] == 202
        wait_for(lambda: "hello" in customer_lines(), "the user's message, translated for the agent")
        agent_api(info, "POST", f"/chats/{contact}/messages", {"Content": "/welcome"})
        agent_api(info, "POST", f"/chats/{contact}/messages", {"Content": "thank you, see https://shop.example/help"})
        agent_api(info, "POST", f"/chats/{contact}/messages", {"Content": "/email"})
        texts = wait_for(lambda: t if len(t := [m["Text"] for m in told("AgentMessage")]) == 3 else None, "three messages for the user")
        assert texts == [
            "Welcome, Maya! I am here to help.",
            "[es] thank you, see https://shop.example/help",
            "We have sent you an email at maya@example.com.",
        ]
        with urllib.request.urlopen(f"{info['admin_url']}/emails", timeout=30) as answer:
            emails = json.loads(answer.read())["Emails"]
        assert [(e["ToAddresses"], e["Subject"]) for e in emails] == [(["maya@example.com"], "Your chat with us")]
        assert "[connect worker] /email: sendEmail done" in customer_lines()
    finally:
        stop_gracefully(process)
