"""`run.py serve` with its event log in DynamoDB (moto's server on loopback), on one node: a bot hands a
conversation over, the bot and the agent write to each other, the agent leaves and the bot gets the
conversation back, told everything by signed webhook (the deliverer follows the DynamoDB log's global
order). The table is made with `run.py store create-table`, the bot's API client with `run.py client
create --config`, which keeps it in the table beside the log.

The worker is stored with `run.py worker create --config`, which writes it to the log serve's
configuration names: the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store.conversations import conversation_stream
from tests.crash.children import Child, Children, free_port, start_connect_local
from tests.crash.connect_side import FLOWS, INSTANCE, REGION, ConnectSide, connect_config
from tests.crash.receiver import WebhookReceiver
from tests.commands.test_client_command import created
from tests.crash.service_process import SERVICE_CREDENTIALS
from tests.service.harness import Api, wait_for
from tests.support.cli import cli, json_file
from tests.support.dynamodb import REGION as TABLE_REGION
from tests.support.dynamodb import open_dynamo_store

DEADLINE = 30.0
TABLE = "serve-e2e-log"


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.mark.usefixtures("dynamodb_credentials")
def test_serve_on_a_dynamodb_log_hands_a_chat_over_relays_both_ways_and_hands_back(
    tmp_path: Path, dynamodb_endpoint: str, webhook: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "store", "create-table", "--table", TABLE, "--region", TABLE_REGION,
               "--endpoint-url", dynamodb_endpoint)[0] == 0
    data = tmp_path / "data"

    with Children() as children:
        connect_child, ready = start_connect_local(tmp_path, connect_config(chats=2))
        children.start(connect_child)
        connect = ConnectSide(ready)
        config = json_file(tmp_path / "serve.json", {
            "data_dir": str(data), "api_host": "127.0.0.1", "api_port": free_port(),
            "regions": {REGION: {"endpoint_url": ready["endpoint_url"], "static_credentials": True}},
            "store": {"dynamodb": {"table": TABLE, "region": TABLE_REGION, "endpoint_url": dynamodb_endpoint}},
        })
        worker_file = json_file(tmp_path / "worker.json", {
            "Data": {"ContactFlowId": FLOWS["human"], "InstanceId": INSTANCE, "Region": REGION,
                     "Secret": "srn:vault::e2e:aws-cross-account-role:local"},
            "Enabled": True, "Name": "OnDynamo", "Type": "amazon-connect-worker",
        })
        code, out, err = cli(capsys, "worker", "create", str(worker_file), "--config", str(config))
        assert code == 0, err
        worker_id = out.strip()
        code, out, err = cli(capsys, "client", "create", "dynamo-bot", "--config", str(config))
        assert code == 0, err
        _, token, signing_secret = created(out)
        webhook.secret = signing_secret
        service = children.start(Child("service", ["serve", "--config", str(config), "--ready-file",
                                                   str(tmp_path / "serve.ready.json")], tmp_path / "service.log",
                                       env=SERVICE_CREDENTIALS))
        bot = Api(service.wait_ready(tmp_path / "serve.ready.json")["api_url"], token)

        status, answer = bot.transfer("on-dynamo", worker_id, DeliverTo=webhook.url, User={"Name": "Maya"})
        assert status == 201, answer
        contact_id = connect.wait_for_contact("Maya", DEADLINE)
        connect.accept(contact_id, "Ana")
        told = lambda kind: [m for m in webhook.once_each("on-dynamo") if m.type == kind]  # noqa: E731
        wait_for(lambda: told("AgentJoined"), "the bot to be told Ana joined", DEADLINE)

        assert bot.say("on-dynamo", "m-1", "Where is my order?")[0] == 202
        wait_for(lambda: any(i.get("Content") == "Where is my order?" for i in connect.record(contact_id)["Items"]),
                 "the customer's line to reach the agent", DEADLINE)
        connect.agent_says(contact_id, "It ships today.")
        [answer_told] = wait_for(lambda: told("AgentMessage"), "the bot to be told Ana's answer", DEADLINE)
        assert answer_told.text == "It ships today."

        connect.agent_leaves(contact_id)
        [handed_back] = wait_for(lambda: told("ReturnedToBot"), "the hand-back", DEADLINE)
        assert handed_back.context["SessionEndReason"] == "AgentLeft"

    with open_dynamo_store(dynamodb_endpoint, TABLE, data / "events.db") as log:
        logged = log.read_stream(conversation_stream("on-dynamo"))
        assert logged[-1].type == "ReturnedToBot"
        assert log.open_streams("conversation-") == []
        everything = log.read_all(limit=10_000)
        assert [e.position for e in everything] == list(range(1, len(everything) + 1))
