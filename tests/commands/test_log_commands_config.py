"""The log commands with `--config FILE` (serve's configuration) instead of `--db`: the log is the one
its `store` names, a DynamoDB table on moto's server here (or the SQLite file in its data_dir), and
what is not the log stays in the data folder's SQLite file (commands/database.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from delivery import WebhookDeliverer
from delivery.backlog import DeliveryBacklog
from events import encode, event_type
from events.commands import ParticipantLeftReceived
from store import EventStore, NewEvent
from store.clients_of import clients_of
from store.conversations import conversation_stream
from store.event_log import EventLog
from store.workers import WorkerRegistry
from tests.crash.children import free_port
from tests.delivery.conversations import append, chat, started
from tests.delivery.deliverers import QUICK, SECRET, told
from tests.delivery.polling import eventually
from tests.events.scenario import Run
from tests.support.cli import cli, json_file
from tests.support.dynamodb import REGION, fresh_table, open_dynamo_store
from tests.workers.test_worker_config import valid_worker


def serve_json(tmp_path: Path, store: dict[str, object]) -> Path:
    """serve's configuration with the data folder `tmp_path/data` and the log where `store` says."""
    return json_file(tmp_path / "serve.json", {"data_dir": str(tmp_path / "data"), "store": store})


def on_dynamodb(tmp_path: Path, endpoint_url: str, table: str) -> Path:
    return serve_json(tmp_path, {"dynamodb": {"table": table, "region": REGION, "endpoint_url": endpoint_url}})


@pytest.mark.usefixtures("dynamodb_credentials")
def test_worker_create_with_config_stores_the_worker_in_the_dynamodb_log(
    tmp_path: Path, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    table = fresh_table(dynamodb_endpoint)
    config = str(on_dynamodb(tmp_path, dynamodb_endpoint, table))
    worker_file = json_file(tmp_path / "worker.json", {**valid_worker(), "Name": "OnTheTable"})

    code, out, err = cli(capsys, "worker", "create", str(worker_file), "--config", config)
    assert (code, err) == (0, "")
    worker_id = out.strip()
    code, out, _ = cli(capsys, "worker", "list", "--config", config)
    assert code == 0 and out.startswith(f"{worker_id}  OnTheTable  enabled")

    data = tmp_path / "data"
    with open_dynamo_store(dynamodb_endpoint, table, data / "events.db") as log:
        assert WorkerRegistry(log).get(worker_id).name == "OnTheTable"
    with EventStore.open(data / "events.db") as local:  # made as serve makes it, its own log empty
        assert local.last_position() == 0


def stored_on(log: EventLog, conversation_id: str) -> Run:
    """A conversation that met Ana, heard from her, and ended when she left, appended to `log`."""
    conversation = Run(conversation_id).connected().with_agent("Ana")
    conversation.agent_says("Hello, how can I help?", at=3.0)
    conversation(ParticipantLeftReceived(at=4.0, message_id="left-1", role="AGENT", display_name="Ana"))
    log.append(
        conversation_stream(conversation_id),
        [NewEvent(event_type(event), encode(event)) for event in conversation.events],
        expected_version=0,
    )
    return conversation


@pytest.mark.usefixtures("dynamodb_credentials")
def test_replay_and_events_with_config_read_the_dynamodb_log(
    tmp_path: Path, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    table = fresh_table(dynamodb_endpoint)
    config = str(on_dynamodb(tmp_path, dynamodb_endpoint, table))
    (tmp_path / "data").mkdir(mode=0o700)
    with open_dynamo_store(dynamodb_endpoint, table, tmp_path / "data" / "events.db") as log:
        conversation = stored_on(log, "conv-1")
    types = [event_type(event) for event in conversation.events]

    code, out, _ = cli(capsys, "replay", "conv-1", "--json", "--config", config)
    assert code == 0
    assert [json.loads(line)["event"]["type"] for line in out.splitlines()] == types

    code, out, _ = cli(capsys, "events", "tail", "--last", "100", "--config", config)
    assert code == 0
    tailed = [json.loads(line) for line in out.splitlines()]
    assert [(line["position"], line["event"]["type"]) for line in tailed] == list(enumerate(types, start=1))

    code, out, _ = cli(capsys, "events", "export", "conv-1", "--config", config)
    assert code == 0 and len(out.splitlines()) == 1 + len(types)  # the header, then each event

    code, _, err = cli(capsys, "replay", "conv-2", "--config", config)
    assert code == 1
    assert err == f"replay: no events for conversation 'conv-2' in DynamoDB table {table} ({REGION})\n"


@pytest.mark.usefixtures("dynamodb_credentials")
def test_a_missing_table_is_the_stores_own_error(
    tmp_path: Path, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(on_dynamodb(tmp_path, dynamodb_endpoint, "never-made"))
    code, _, err = cli(capsys, "worker", "list", "--config", config)
    assert code == 2
    assert err == (
        "worker list: no DynamoDB table 'never-made': create it with "
        "`python run.py store create-table --table never-made ...`\n"
    )
    code, out, _ = cli(capsys, "status", "--config", config)
    assert (code, out) == (
        2, "status: no DynamoDB table 'never-made': create it with `python run.py store create-table --table never-made ...`\n"
    )


def test_an_sqlite_config_is_the_file_in_its_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(serve_json(tmp_path, {}))
    code, _, err = cli(capsys, "replay", "conv-1", "--config", config)
    assert code == 2  # read-only commands create nothing
    assert err == f"replay: --config {config}: no event store at {tmp_path / 'data' / 'events.db'} ($.data_dir)\n"

    worker_file = json_file(tmp_path / "worker.json", {**valid_worker(), "Name": "InTheFile"})
    code, out, _ = cli(capsys, "worker", "create", str(worker_file), "--config", config)
    assert code == 0
    code, listed, _ = cli(capsys, "worker", "list", "--db", str(tmp_path / "data" / "events.db"))
    assert listed.startswith(f"{out.strip()}  InTheFile")


def test_db_and_config_together_are_refused_naming_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(serve_json(tmp_path, {}))
    with pytest.raises(SystemExit) as exited:  # argparse: the usage, then the error
        cli(capsys, "worker", "list", "--config", config, "--db", str(tmp_path / "other.db"))
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith("error: argument --db: not allowed with argument --config\n")


def test_a_config_serve_would_refuse_is_a_usage_error_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = serve_json(tmp_path, {"dynamodb": {"table": "t", "region": REGION}})
    with pytest.raises(SystemExit) as exited:
        cli(capsys, "events", "tail", "--config", str(config))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument --config: {config}: " in err and "`$.store.dynamodb.table`" in err


@pytest.mark.usefixtures("dynamodb_credentials")
def test_status_with_config_counts_the_live_conversations_webhook_lag_and_backlog_of_the_dynamodb_log(
    tmp_path: Path, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    table = fresh_table(dynamodb_endpoint)
    config = str(on_dynamodb(tmp_path, dynamodb_endpoint, table))
    (tmp_path / "data").mkdir(mode=0o700)
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: every message waits for a retry
    with open_dynamo_store(dynamodb_endpoint, table, tmp_path / "data" / "events.db") as log:
        with clients_of(log) as clients:
            shop = clients.create("shop-bot")
        live = Run("conv-live").connected()
        log.append(conversation_stream("conv-live"), [NewEvent(event_type(e), encode(e)) for e in live.events], 0)
        append(log, "c-1", chat(started("c-1", down, client_id=shop.client.id), agent_messages=1).events)
        owed = len(told(log, "c-1"))
        deliverer = WebhookDeliverer(log, signing_secret=lambda client_id: SECRET, backoff=QUICK)
        deliverer.start()
        reader = DeliveryBacklog(log)
        try:
            eventually(lambda: (figures := reader.figures()).lag == 0 and figures.backlog != [], timeout=20)
        finally:
            reader.close()
            deliverer.stop()

    code, out, _ = cli(capsys, "status", "--config", config)

    assert code == 3, out  # no service runs
    assert f"  event store DynamoDB table {table} ({REGION}) (last position " in out
    assert f"  local file {tmp_path / 'data' / 'events.db'} " in out  # the lock's, the status file's, the deliverer's
    assert "live conversations (counted from the event store): 2" in out
    # The deliverer's tail and checkpoints are in the data folder's file, the log's events in the table.
    assert "webhook delivery (counted from the event store): lag 0 log positions" in out
    assert f"  backlog: {owed} messages in 1 conversations" in out
    [row] = [line for line in out.splitlines() if shop.client.id in line]
    assert row.split()[:4] == ["shop-bot", shop.client.id, "1", str(owed)]
