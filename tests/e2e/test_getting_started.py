"""The README's getting started, command by command, as an operator follows it: from a contact flow's
address to a first chat handed over and back. Amazon Connect is a separate local one (`run.py
connect-local`) in a region whose role is assumed through its STS, which takes only the external id the
operator put in the vault; `serve` is a child process; the other commands run as `run.py` runs them; a
person answers as the agent through the local Connect's agent API, as one would in the agent workspace.
Only `serve.json` differs from the README's: its region points at the local Connect."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.crash.children import Child, Children, start_connect_local
from tests.crash.connect_side import FLOWS, INSTANCE, ROLE_REGION, ConnectSide, connect_config
from tests.crash.service_process import SERVICE_CREDENTIALS
from tests.service.harness import Api
from tests.support.cli import cli, json_file

ACCOUNT = "123456789012"
SECRET = "srn:vault::acme:aws-cross-account-role:connect"
ROLE = {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/connect-worker", "ExternalId": "shop-7f3e9c1a"}
PRINCIPAL = "arn:aws:iam::111122223333:role/connect-worker-service"
FLOW = FLOWS["human"]  # its queue has no simulated agent: the test answers as the person would
TOLD_WITHIN_SECONDS = 15.0


@pytest.fixture
def children() -> Iterator[Children]:
    with Children() as started:
        yield started


def flow_page_address() -> str:
    """What the browser's address bar shows on the flow's page in the Amazon Connect admin website."""
    arn = f"arn:aws:connect:{ROLE_REGION}:{ACCOUNT}:instance/{INSTANCE}/contact-flow/{FLOW}"
    return "https://acme.my.connect.aws/contact-flows/edit?id=" + urllib.parse.quote(arn, safe="")


class PullStream:
    """The bot's side: the conversation's pull stream, read with long polls."""

    def __init__(self, api: Api, conversation_id: str) -> None:
        self.api, self.conversation_id, self.after = api, conversation_id, 0

    def next_of(self, wanted: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + TOLD_WITHIN_SECONDS
        while time.monotonic() < deadline:
            status, page = self.api.call("GET", f"/v1/conversations/{self.conversation_id}/events?after={self.after}&wait=2")
            assert status == 200, page
            for message in page["Events"]:
                self.after = message["Seq"]
                if wanted(message):
                    return message
        raise AssertionError(f"the bot was not told {what} within {TOLD_WITHIN_SECONDS} s")


def test_from_a_contact_flows_address_to_a_first_chat_handed_over_and_back(
    tmp_path: Path, children: Children, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    connect_child, ready = start_connect_local(tmp_path, connect_config(chats=2))
    children.start(connect_child)
    connect = ConnectSide(ready)
    connect.require_external_id(ROLE["RoleArn"], ROLE["ExternalId"])
    db = str(tmp_path / "data" / "events.db")

    # 3. The worker file from the flow's address, stored.
    worker_file = tmp_path / "shop-connect.json"
    code, said, _ = cli(capsys, "worker", "init", "--contact-flow-url", flow_page_address(), "--region", ROLE_REGION,
                        "--secret", SECRET, "--name", "ShopConnect", "--out", str(worker_file))
    assert code == 0, said
    code, worker_id, _ = cli(capsys, "worker", "create", str(worker_file), "--db", db)
    worker_id = worker_id.strip()
    assert code == 0 and worker_id

    # 4. The role's ARN and external id in the vault, under the worker's Secret.
    assert cli(capsys, "secret", "put", SECRET, "--file", str(json_file(tmp_path / "role.json", ROLE)), "--db", db)[0] == 0

    # 5. The role's policies, filled in for this flow and instance.
    code, printed, _ = cli(capsys, "worker", "policy", worker_id, "--principal", PRINCIPAL, "--db", db)
    assert code == 0
    [role] = json.loads(printed)["Roles"]
    assert role["RoleArn"] == ROLE["RoleArn"]
    assert role["TrustPolicy"]["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": ROLE["ExternalId"]}}
    flow_arn = f"arn:aws:connect:{ROLE_REGION}:{ACCOUNT}:instance/{INSTANCE}/contact-flow/{FLOW}"
    assert flow_arn in role["PermissionsPolicy"]["Statement"][0]["Resource"]

    # 6. doctor, with serve's configuration (here pointed at the local Connect and its STS).
    serve_config = json_file(tmp_path / "serve.json", {
        "data_dir": str(tmp_path / "data"), "api_host": "127.0.0.1", "api_port": 0,
        "regions": {ROLE_REGION: {"endpoint_url": ready["endpoint_url"], "sts_endpoint_url": ready["endpoint_url"]}},
    })
    for name, value in SERVICE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    code, report, _ = cli(capsys, "doctor", "--config", str(serve_config))
    assert code == 0, report
    assert re.search(rf"^  ok +{ROLE_REGION} \(primary\): the role can be assumed", report, re.M), report
    assert re.search(rf"^  ok +{ROLE_REGION} \(primary\): .*contact flow {FLOW}", report, re.M), report

    # 7. serve; 8. the bot's client.
    service = children.start(Child("service", ["serve", "--config", str(serve_config), "--ready-file",
                                               str(tmp_path / "serve.ready.json")], tmp_path / "service.log",
                                    env=SERVICE_CREDENTIALS))
    api_url = service.wait_ready(tmp_path / "serve.ready.json")["api_url"]
    code, made, _ = cli(capsys, "client", "create", "shop-bot", "--db", db)
    assert code == 0
    [token] = re.findall(r"^token +(\S+)$", made, re.M)
    bot = Api(api_url, token)

    # 9. The transfer, as the README's curl sends it.
    status, conversation = bot.call("POST", "/v1/conversations", {
        "ConversationId": "first-chat", "WorkerId": worker_id, "BotName": "ShopBot", "User": {"Name": "Maya"},
        "Context": {"Order": "4711"}, "DeliverTo": None,
    })
    assert (status, conversation["Phase"]) == (201, "starting"), conversation
    told = PullStream(bot, "first-chat")

    # 10. The agent's side: the chat waits in the flow's queue, Maya by name; an agent accepts and answers.
    contact_id = connect.wait_for_contact("Maya", timeout=TOLD_WITHIN_SECONDS)
    connect.accept(contact_id, "Ana")
    assert told.next_of(lambda m: m["Type"] == "AgentJoined", "Ana joined")["AgentName"] == "Ana"
    assert bot.say("first-chat", "m-1", "Where is my order?")[0] == 202
    connect.agent_says(contact_id, "It ships today.")
    assert told.next_of(lambda m: m["Type"] == "AgentMessage", "Ana's answer")["Text"] == "It ships today."

    # 11. The hand-back: the agent ends the chat.
    connect.agent_leaves(contact_id)
    handed_back = told.next_of(lambda m: m["Type"] == "ReturnedToBot", "the hand-back")["Context"]
    assert handed_back["Order"] == "4711"
    assert (handed_back["SessionEndReason"], handed_back["LastKnownAgent"]) == ("AgentLeft", {"AgentName": "Ana"})
    assert [call["Granted"] for call in connect.assume_role_calls() if call["RoleArn"] == ROLE["RoleArn"]][-1]
