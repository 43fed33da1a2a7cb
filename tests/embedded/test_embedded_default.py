"""`python run.py` with no subcommand: the local Amazon Connect, the demo client's token, the curl lines
it prints, which work on every start, and `--agent human`, where a person answers from the agent page."""

from __future__ import annotations

import json
import re
import signal
import stat
import urllib.error
import urllib.request
from pathlib import Path

import boto3

from connect_client.contacts import Contacts
from tests.service.harness import Api, wait_for
from tests.support.processes import OutputLines, start_embedded, stop_gracefully

# The first curl line: -d '<the transfer body>' <api url>/v1/conversations
TRANSFER_LINE = re.compile(r"curl .* -d '(?P<body>\{.*\})' (?P<url>http://\S+)/v1/conversations$", re.MULTILINE)


def test_embedded_default_serves_local_connect_and_creates_the_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process, info = start_embedded(data, tmp_path / "ready.json")
    try:
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
        with urllib.request.urlopen(info["operator_page_url"], timeout=10) as page:
            assert "<title>Operator" in page.read().decode()
    finally:
        output = stop_gracefully(process)
    assert (data / "events.db").exists()
    assert info["agent_page_url"] in output
    assert f"operator page        {info['operator_page_url']}  (an admin client's token: python run.py client " \
        f"create ops --admin --db {(data / 'events.db').resolve()})" in output
    assert started["ParticipantToken"] not in output


def test_the_demo_clients_token_opens_the_api_and_only_it_on_every_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tokens = []
    for attempt in (1, 2):
        process, info = start_embedded(data, tmp_path / f"ready-{attempt}.json")
        try:
            token_file = Path(info["api_token_file"])
            assert token_file.parent == data.resolve()
            assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
            token = token_file.read_text().strip()
            assert Api(info["api_url"], token).call("GET", "/v1/conversations")[0] == 200
            wrong_status, wrong = Api(info["api_url"], token[:-2] + "xx").call("GET", "/v1/conversations")
            assert (wrong_status, wrong["Code"]) == (401, "unauthorized")
        finally:
            output = stop_gracefully(process)
        assert token not in output and str(token_file) in output
        tokens.append(token)
    assert tokens[0] == tokens[1], "the demo client's token file is reused on a later start"


def test_the_printed_transfer_works_on_every_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = []
    for attempt in (1, 2):
        process, info = start_embedded(data, tmp_path / f"ready-{attempt}.json")
        output = OutputLines(process)  # a line that never comes fails the test with the child's stacks
        try:
            token = Path(info["api_token_file"]).read_text().strip()
            printed = ""
            while "Stop with Ctrl-C." not in printed:
                printed += output.next()
            line = TRANSFER_LINE.search(printed)
            assert line is not None, printed
            body = json.loads(line["body"])
            status, answer = Api(line["url"], token).call("POST", "/v1/conversations", body)
            assert status == 201, answer
            ids.append(body["ConversationId"])
        finally:
            output.stop_with(signal.SIGTERM, timeout=30)
        assert process.returncode == 0
    assert ids[0] != ids[1], "each start prints a fresh conversation id"


def agent_api(info: dict, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """The local Amazon Connect's agent API, as the agent page calls it."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{info['agent_api_url']}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_with_a_human_agent_the_chat_waits_for_a_person_who_answers_from_the_agent_page(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process, info = start_embedded(data, tmp_path / "ready.json", "--agent", "human")
    try:
        connect = boto3.client("connect", endpoint_url=info["endpoint_url"], region_name=info["region"],
                               aws_access_key_id="local", aws_secret_access_key="local")
        assert Contacts(connect).queue_metrics(info["instance_id"], info["queue_id"]).agents_online == 0
        api = Api(info["api_url"], Path(info["api_token_file"]).read_text().strip())
        assert api.transfer("h-1", info["demo_worker_id"], Context={"name": "Maya"})[0] == 201

        def told(kind: str) -> list[dict]:
            status, page = api.call("GET", "/v1/conversations/h-1/events?after=0")
            assert status == 200, page
            return [event for event in page["Events"] if event["Type"] == kind]

        [waiting] = wait_for(lambda: agent_api(info, "GET", "/chats")[1]["chats"], "the chat in the queue")
        assert (waiting["State"], waiting["CustomerName"]) == ("WAITING", "Maya")
        assert api.say("h-1", "m-1", "Hello, anyone?")[0] == 202
        # No simulated agent: the chat is still the person's to accept.
        assert agent_api(info, "POST", f"/chats/{waiting['ContactId']}/accept", {"AgentName": "Sam"})[0] == 200
        assert wait_for(lambda: told("AgentJoined"), "Sam joining")[0]["AgentName"] == "Sam"
        transcript = lambda: agent_api(info, "GET", f"/chats/{waiting['ContactId']}/transcript")[1]["Items"]  # noqa: E731
        wait_for(lambda: any(i.get("Content") == "Hello, anyone?" for i in transcript()), "the bot's message")
        status, _ = agent_api(info, "POST", f"/chats/{waiting['ContactId']}/messages", {"Content": "Sam here."})
        assert status == 200
        assert wait_for(lambda: told("AgentMessage"), "Sam's answer")[0]["Text"] == "Sam here."
        assert [m["Text"] for m in told("AgentMessage")] == ["Sam here."], "no simulated agent spoke"
    finally:
        output = stop_gracefully(process)
    assert "accept it on the agent page" in output
