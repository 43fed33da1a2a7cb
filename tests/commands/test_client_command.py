"""`run.py client create | list | revoke` against a real event store file."""

from __future__ import annotations

import base64
import json
import re
import signal
from pathlib import Path

import pytest

from store import EventStore
from store.clients import ClientRegistry
from store.clients_of import clients_of
from tests.commands.test_log_commands_config import on_dynamodb
from tests.support.dynamodb import fresh_table, open_dynamo_store
from tests.support.cli import cli
from tests.support.processes import start_run_py, wait_for_ready_file


def created(out: str) -> tuple[str, str, str]:
    """(client id, token, signing secret) from what `client create` printed."""
    client_id = re.search(r"^client (\S+)", out, re.MULTILINE)[1]
    token = re.search(r"^token\s+(\S+)$", out, re.MULTILINE)[1]
    secret = re.search(r"^signing secret\s+(\S+)$", out, re.MULTILINE)[1]
    return client_id, token, secret


def test_create_prints_a_working_token_and_a_standard_webhooks_secret_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "events.db"
    code, out, _ = cli(capsys, "client", "create", "shop-bot", "--db", str(db))
    assert code == 0
    client_id, token, secret = created(out)

    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 24
    with EventStore.open(db) as store, ClientRegistry(store.path) as clients:
        assert clients.authenticate(token).id == client_id
        assert clients.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert clients.signing_secret(client_id) == secret
        assert store.read_all() == [], "a client is no event: exports and replays never carry its secrets"
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("events.db"))
    assert token.encode() not in stored, "the token is stored only as its hash"


def test_list_shows_every_client_and_never_a_token_or_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "events.db")
    bot_id, bot_token, bot_secret = created(cli(capsys, "client", "create", "shop-bot", "--db", db)[1])
    admin_id, admin_token, admin_secret = created(cli(capsys, "client", "create", "ops", "--admin", "--db", db)[1])

    code, out, _ = cli(capsys, "client", "list", "--db", db)

    assert code == 0
    lines = out.splitlines()
    assert [line.split()[:3] for line in lines] == [[bot_id, "shop-bot", "bot"], [admin_id, "ops", "admin"]]
    assert all("created" in line and line.endswith("active") for line in lines)
    for secret in (bot_token, bot_secret, admin_token, admin_secret):
        assert secret not in out


def test_a_revoked_client_is_refused_and_listed_as_revoked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "events.db")
    client_id, token, _ = created(cli(capsys, "client", "create", "shop-bot", "--db", db)[1])

    code, out, _ = cli(capsys, "client", "revoke", client_id, "--db", db)

    assert (code, out.strip()) == (0, f"revoked {client_id} (shop-bot)")
    with EventStore.open(db) as store, ClientRegistry(store.path) as clients:
        assert clients.authenticate(token) is None
    assert " revoked 20" in cli(capsys, "client", "list", "--db", db)[1]


def test_revoking_an_unknown_client_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "client", "revoke", "cl-nobody", "--db", str(tmp_path / "events.db"))
    assert (code, err.strip()) == (2, "client revoke: no client with id 'cl-nobody'")


def test_allowed_hosts_are_kept_normalized_and_a_bad_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "events.db")
    code, out, _ = cli(capsys, "client", "create", "b", "--allow-host", "Bot.Example", "--allow-host", "[::1]", "--db", db)
    assert code == 0
    assert cli(capsys, "client", "list", "--db", db)[1].rstrip().endswith("hosts bot.example,::1")

    code, out, err = cli(capsys, "client", "create", "b", "--allow-host", "a" * 64, "--db", db)
    assert code == 2 and "--allow-host" in err and "token" not in out


@pytest.mark.parametrize("name", ["", "   ", "two\nlines", "x" * 129])
def test_a_name_that_cannot_be_shown_on_one_line_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    db = tmp_path / "events.db"
    with pytest.raises(SystemExit) as exited:
        cli(capsys, "client", "create", name, "--db", str(db))
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert "token" not in out and "argument NAME: " in err and "is not a client's name" in err, err
    assert not db.exists()


def serve_output(tmp_path: Path) -> str:
    """Everything `run.py serve` prints from its start to its stop."""
    config = tmp_path / "serve.json"
    config.write_text(json.dumps({"data_dir": str(tmp_path / "data"), "api_port": 0}))
    ready = tmp_path / f"ready-{len(list(tmp_path.glob('ready-*')))}.json"
    process = start_run_py("serve", "--config", str(config), "--ready-file", str(ready))
    try:
        wait_for_ready_file(ready, process)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def test_serve_without_a_client_warns_how_to_create_one_and_with_one_does_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = serve_output(tmp_path)

    assert "WARNING" in output and "no API clients" in output
    config = tmp_path / "serve.json"
    # The hint names serve's configuration, which says where the clients are (a file or a DynamoDB table).
    assert f"python run.py client create NAME --config {config}" in output
    cli(capsys, "client", "create", "shop-bot", "--config", str(config))
    assert "no API clients" not in serve_output(tmp_path)


def test_serve_says_where_the_operator_page_is_and_whose_token_it_takes(tmp_path: Path) -> None:
    db = tmp_path / "data" / "events.db"

    output = serve_output(tmp_path)

    line = re.search(r"^operator page (http://127\.0\.0\.1:\d+)/operator \(with an admin client's token: (.*)\)$", output, re.M)
    assert line is not None, output
    assert line[2] == f"python run.py client create NAME --admin --db {db}"


def test_create_makes_a_missing_data_folder_owner_only_and_refuses_one_others_can_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "fresh" / "data"
    assert cli(capsys, "client", "create", "shop-bot", "--db", str(fresh / "events.db"))[0] == 0
    assert fresh.stat().st_mode & 0o777 == 0o700

    exposed = tmp_path / "exposed"
    exposed.mkdir()
    EventStore.open(exposed / "events.db").close()
    (exposed / "events.db").chmod(0o644)
    code, out, err = cli(capsys, "client", "create", "shop-bot", "--db", str(exposed / "events.db"))
    assert (code, out) == (2, "")
    assert f"chmod 600 {exposed / 'events.db'}" in err


@pytest.mark.usefixtures("dynamodb_credentials")
def test_with_a_dynamodb_config_the_clients_are_in_the_table_for_every_node(
    tmp_path: Path, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    table = fresh_table(dynamodb_endpoint)
    config = str(on_dynamodb(tmp_path, dynamodb_endpoint, table))
    client_id, token, secret = created(cli(capsys, "client", "create", "shop-bot", "--config", config)[1])

    # Another node: its own data folder, the same table.
    with open_dynamo_store(dynamodb_endpoint, table, tmp_path / "other-node.db") as log, clients_of(log) as clients:
        assert clients.authenticate(token).id == client_id
        assert clients.signing_secret(client_id) == secret
        assert cli(capsys, "client", "revoke", client_id, "--config", config)[0] == 0
        assert clients.authenticate(token) is None
    with EventStore.open(tmp_path / "data" / "events.db") as local, ClientRegistry(local.path) as here:
        assert here.list() == [], "nothing of it in the data folder's file"
    assert cli(capsys, "client", "list", "--config", config)[1].split()[:2] == [client_id, "shop-bot"]
